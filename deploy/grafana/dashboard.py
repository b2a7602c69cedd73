"""Herald's Grafana dashboard, built with Grafana's own Foundation SDK (grafana-foundation-sdk),
so that what it writes is a dashboard as Grafana's schema has it.

    python3 deploy/grafana/dashboard.py > deploy/grafana/herald.json

scripts/check-deploy builds it again and fails when herald.json differs, then loads the file back
through the SDK's models.
"""

import json
import sys

from grafana_foundation_sdk.builders import common, dashboard, prometheus, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")

# (row, [(title, unit, description, [(expr, legend)])])
ROWS = [
    ("Throughput", [
        ("Notifications accepted", "reqps", "Notifications ingest accepted per second.",
         [("sum(rate(herald_notifications_accepted_total[$__rate_interval]))", "accepted")]),
        ("Deliveries by provider and outcome", "reqps",
         "Deliveries settled by the senders per second.",
         [("sum by (provider, outcome) (rate(herald_deliveries_total[$__rate_interval]))",
           "{{provider}} {{outcome}}")]),
        ("Failure ratio by provider", "percentunit",
         "Deliveries that did not end submitted, over all settled.",
         [("sum by (provider) (rate(herald_deliveries_total{outcome!=\"submitted\"}[$__rate_interval]))"
           " / sum by (provider) (rate(herald_deliveries_total[$__rate_interval]))", "{{provider}}")]),
        ("Retries by provider", "reqps", "Provider answers asking to try again later.",
         [("sum by (provider) (rate(herald_delivery_retries_total[$__rate_interval]))",
           "{{provider}}")]),
    ]),
    ("Latency", [
        ("Provider request p50 and p99", "s", "How long the providers take to answer a push.",
         [("histogram_quantile(0.5, sum by (le, provider) "
           "(rate(herald_provider_request_duration_seconds_bucket[$__rate_interval])))",
           "{{provider}} p50"),
          ("histogram_quantile(0.99, sum by (le, provider) "
           "(rate(herald_provider_request_duration_seconds_bucket[$__rate_interval])))",
           "{{provider}} p99")]),
        ("Store operation p99", "s", "How long the store's operations take.",
         [("histogram_quantile(0.99, sum by (le, operation) "
           "(rate(herald_store_operation_duration_seconds_bucket[$__rate_interval])))",
           "{{operation}}")]),
    ]),
    ("Backlog", [
        ("Consumer backlog (not yet handed out)", "short",
         "Messages waiting for each JetStream consumer; every replica reports the same figure.",
         [("max by (stream, consumer) (herald_jetstream_consumer_pending_messages)",
           "{{consumer}}")]),
        ("Consumer in flight (not yet acknowledged)", "short",
         "Messages handed to a consumer and not acknowledged.",
         [("max by (stream, consumer) (herald_jetstream_consumer_ack_pending_messages)",
           "{{consumer}}")]),
        ("Outbox", "short", "Accepted messages not yet published to JetStream.",
         [("max(herald_outbox_backlog_messages)", "outbox")]),
    ]),
    ("Credentials, receipts and webhooks", [
        ("Token refreshes", "short", "Access tokens fetched or signed, by result.",
         [("sum by (provider, result) (increase(herald_provider_token_refreshes_total[$__rate_interval]))",
           "{{provider}} {{result}}")]),
        ("Receipts recorded", "reqps", "Delivery status changes recorded, by status reached.",
         [("sum by (status) (rate(herald_receipts_recorded_total[$__rate_interval]))",
           "{{status}}")]),
        ("Webhook attempts", "reqps", "Outbound webhook requests, by outcome.",
         [("sum by (outcome) (rate(herald_webhook_attempts_total[$__rate_interval]))",
           "{{outcome}}")]),
    ]),
]


def build() -> dict:
    board = (
        dashboard.Dashboard("Herald")
        .uid("herald-overview")
        .description("Herald's delivery pipeline: throughput, outcomes, latency and backlog.")
        .tags(["herald", "push"])
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("browser")
        .with_variable(
            dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus")
        )
    )
    for row, panels in ROWS:
        board = board.with_row(dashboard.Row(row))
        for title, unit, description, queries in panels:
            panel = (
                timeseries.Panel()
                .title(title)
                .description(description)
                .unit(unit)
                .datasource(DATASOURCE)
                .height(8)
                .span(24 // len(panels) if len(panels) > 1 else 24)
                .tooltip(common.VizTooltipOptions().mode(common_models.TooltipDisplayMode.MULTI))
                .legend(
                    common.VizLegendOptions()
                    .display_mode(common_models.LegendDisplayMode.LIST)
                    .placement(common_models.LegendPlacement.BOTTOM)
                    .show_legend(True)
                )
            )
            for ref, (expr, legend) in zip("ABCDEFGH", queries):
                panel = panel.with_target(
                    prometheus.Dataquery()
                    .expr(expr)
                    .legend_format(legend)
                    .ref_id(ref)
                    .datasource(DATASOURCE)
                )
            board = board.with_panel(panel)
    return json.loads(json.dumps(board.build(), cls=JSONEncoder))


if __name__ == "__main__":
    json.dump(build(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
