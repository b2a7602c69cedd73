# One image with every Herald binary; docker-compose.yml and deploy/k8s pick the command.
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
     /src/target/release/herald-receipt /usr/local/bin/
USER herald
ENV HERALD_LOG_FORMAT=json
