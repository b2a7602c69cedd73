"""The seeds' wazo-webhookd-client example, against Herald.

wazo-webhookd-client sends a mobile notification with

    webhookd_client = WebhookdClient(host='127.0.0.1', port=9300, prefix=None, https=False,
                                     token=token, tenant=tenant)
    webhookd.mobile_notifications.send(test_notification)

and herald_client takes the same call: Herald serves `POST /1.0/mobile/notifications` on its API
port, with a server API key as the token and the `tnt_…` tenant id as the tenant.

    HERALD_API_KEY=hrld_… HERALD_TENANT=tnt_… python examples/wazo_mobile_notification.py [USER_UUID]

(HERALD_ENDPOINT defaults to 127.0.0.1:50051.) Herald answers 204 and pushes to the user's mobile
sessions; a body wazo-webhookd would refuse raises InvalidArgumentError naming each field.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

from herald_client import Client as HeraldClient

EXAMPLE_USER_UUID = "123e4567-e89b-12d3-a456-426614174000"


def send_example_notification(endpoint: str, token: str, tenant: Optional[str], user_uuid: str) -> None:
    with HeraldClient(endpoint=endpoint, api_key=token, tenant=tenant) as herald_client:
        test_notification = {
            "notification_type": "exampleNotification",
            "title": "Example notification",
            "body": "This is an example notification",
            "user_uuid": user_uuid,
            "extra": {"mykey": "myvalue"},
        }
        herald_client.mobile_notifications.send(test_notification)


def main() -> None:
    user_uuid = sys.argv[1] if len(sys.argv) > 1 else EXAMPLE_USER_UUID
    send_example_notification(
        os.environ.get("HERALD_ENDPOINT", "127.0.0.1:50051"),
        os.environ["HERALD_API_KEY"],
        os.environ.get("HERALD_TENANT"),
        user_uuid,
    )
    print(f"sent exampleNotification to {user_uuid}")


if __name__ == "__main__":
    main()
