"""Sends a notification to a user and waits until a provider accepted it (the seeds' "Wait For").

    HERALD_API_KEY=hrld_… python examples/send_and_wait.py --user alice --title Hello --body "First push"

(HERALD_ENDPOINT defaults to 127.0.0.1:50051.) Prints the outcome (ONSUBMIT, ONDRFAIL, ONERROR,
ONTIMEOUT, ...) and each delivery; exits 1 unless the outcome is the one waited for.
"""

from __future__ import annotations

import argparse
import os
import sys

from herald_client import Client, HeraldError, pb

REACHED = {
    "submitted": pb.WAIT_OUTCOME_ONSUBMIT,
    "delivered": pb.WAIT_OUTCOME_ONDRSUCCESS,
    "read": pb.WAIT_OUTCOME_ONREAD,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--user", required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--body", default="")
    parser.add_argument("--wait-for", choices=sorted(REACHED), default="submitted")
    parser.add_argument("--timeout", type=int, default=30, help="seconds to wait")
    args = parser.parse_args()

    with Client(os.environ.get("HERALD_ENDPOINT", "127.0.0.1:50051"), api_key=os.environ["HERALD_API_KEY"]) as herald:
        try:
            result = herald.send_and_wait(
                user_id=args.user,
                title=args.title,
                body=args.body,
                wait_for=args.wait_for,
                timeout_seconds=args.timeout,
            )
        except HeraldError as error:
            print(f"refused: {error}", file=sys.stderr)
            for violation in error.field_violations:
                print(f"  {violation.field}: {violation.description}", file=sys.stderr)
            return 1
    print(f"message {result.message_id}: {pb.WaitOutcome.Name(result.outcome)} {result.reason}".rstrip())
    for delivery in result.deliveries:
        print(
            f"  {delivery.delivery_id}  {pb.Provider.Name(delivery.provider)}  "
            f"{pb.DeliveryStatus.Name(delivery.status)}  {delivery.provider_message_id or delivery.reason}"
        )
    return 0 if result.outcome == REACHED[args.wait_for] else 1


if __name__ == "__main__":
    sys.exit(main())
