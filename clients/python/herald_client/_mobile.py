"""Wazo's mobile-notification endpoint, as wazo-webhookd-client's `mobile_notifications`."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, Optional

import grpc

from herald_client._errors import HeraldError, error_from_http, make_error
from herald_client._retry import RetryPolicy

PATH = "/1.0/mobile/notifications"


class MobileNotifications:
    """`POST /1.0/mobile/notifications` on Herald's API port: wazo-webhookd's request as it is.

    Herald pushes the notification to the user's mobile sessions and answers 204; a body
    webhookd would refuse is an InvalidArgumentError listing each field's failures (the 400's
    `details`), a missing or wrong key an UnauthenticatedError, a tenant the key may not act for
    an UnauthenticatedError too. Connection failures and 503 are retried under the client's
    retry policy (nothing was accepted then)."""

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str],
        tenant: Optional[str],
        timeout: Optional[float],
        retry: RetryPolicy,
        ssl_context: Optional[ssl.SSLContext],
    ) -> None:
        self._url = base_url.rstrip("/") + PATH
        self._api_key = api_key
        self._tenant = tenant
        self._timeout = timeout
        self._retry = retry
        self._ssl_context = ssl_context

    def send(self, notification: Mapping[str, Any], *, tenant: Optional[str] = None) -> None:
        """Sends `{notification_type, user_uuid, title, body, extra}`; `tenant` (a `tnt_…` id,
        sent as `Wazo-Tenant`) overrides the client's."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["X-Auth-Token"] = self._api_key
        if tenant or self._tenant:
            headers["Wazo-Tenant"] = tenant or self._tenant or ""
        body = json.dumps(dict(notification)).encode("utf-8")
        attempt = 1
        while True:
            error = self._post(body, headers)
            if error is None:
                return
            if error.code is not grpc.StatusCode.UNAVAILABLE or attempt >= self._retry.max_attempts:
                raise error
            time.sleep(self._retry.delay(attempt))
            attempt += 1

    def _post(self, body: bytes, headers: Mapping[str, str]) -> Optional[HeraldError]:
        """One attempt: None when Herald accepted the notification, else its error."""
        request = urllib.request.Request(self._url, data=body, headers=dict(headers), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout, context=self._ssl_context):
                return None
        except urllib.error.HTTPError as refused:
            with refused:
                return error_from_http(refused.code, refused.read())
        except urllib.error.URLError as unreachable:
            return make_error(grpc.StatusCode.UNAVAILABLE, f"cannot reach {self._url}: {unreachable.reason}")
