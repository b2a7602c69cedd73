# One image with every Herald binary; docker-compose.yml and deploy/k8s pick the command. It is
# built without the `mocks` feature: no mock provider or benchmark ships in it.
FROM rust:1.89-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bins

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 herald
COPY --from=build /src/target/release/herald /src/target/release/herald-ingest \
     /src/target/release/herald-router /src/target/release/herald-sender \
     /src/target/release/herald-receipt /src/target/release/herald-dispatcher /usr/local/bin/
USER herald
# Listen on every interface inside the container (the default is loopback only).
ENV HERALD_LOG_FORMAT=json HERALD_GRPC_ADDR=0.0.0.0:50051 HERALD_HEALTH_ADDR=0.0.0.0:50052 \
    HERALD_METRICS_ADDR=0.0.0.0:9464
EXPOSE 50051 50052 9464
