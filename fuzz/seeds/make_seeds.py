"""Writes the fuzz targets' seed inputs: a few well-formed requests and bus messages, encoded by
hand (field numbers from proto/), so that the fuzzer starts from inputs that pass the first
checks. Run from this folder: python3 make_seeds.py"""
import os


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def ld(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def num(field, n):
    return varint(field << 3) + varint(n)


def message(*fields):
    return b"".join(fields)


user = message(ld(2, "alice"))
action = message(num(1, 2), ld(2, "https://shop.example/orders/42"))
deeplink = message(num(1, 4), ld(2, "shop://orders/42"))
android = message(ld(1, "Bonjour"), ld(12, "#ff8800"), ld(11, "orders"), num(8, 4))
ios = message(ld(3, "Subtitle"), num(9, 3), num(13, 3), ld(14, "thread-1"))
web = message(ld(4, "https://shop.example/o/42"), ld(5, "https://shop.example/i.png"), num(7, 1))
notification = message(
    ld(1, "Order shipped"),
    ld(2, "It arrives Tuesday"),
    ld(3, action),
    ld(5, "order-42"),
    num(7, 5),
    ld(8, "https://shop.example/p.png"),
    ld(12, message(ld(1, "order"), ld(2, "42"))),
    ld(13, message(num(1, 9), ld(2, "ref-1"))),
    ld(14, "incomingCall"),
    ld(20, android),
    ld(21, ios),
    ld(22, web),
)
subscription = message(
    ld(1, "https://push.example/send/abc"),
    ld(2, "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
    ld(3, "BTBZMqHH6r4Tts7J_aSIgg"),
)
send_user = message(ld(1, user), ld(2, notification), ld(3, "key-1"), ld(6, "https://hooks.example/dr"))
send_ios = message(
    ld(1, message(ld(4, message(num(1, 2), ld(2, "ab" * 32))))),
    ld(2, message(ld(1, "Hi"), ld(3, deeplink))),
)
send_web = message(ld(1, message(ld(4, message(num(1, 5), num(3, 1), ld(4, subscription))))), ld(2, message(ld(1, "Hi"))))
register_web = message(ld(1, "bob"), num(3, 5), num(5, 1), ld(6, subscription))
register_ios = message(ld(1, "carol"), num(3, 2), ld(4, "ab" * 32))

accepted = message(
    ld(1, "tnt_1"), ld(2, "msg_1"), ld(3, user), ld(4, notification), num(6, 1_700_000_000_000), num(7, 1_700_000_600_000)
)
task = message(
    ld(1, "tnt_1"), ld(2, "msg_1"), ld(3, "dlv_1"), ld(4, message(ld(1, "dev_1"), num(2, 1), ld(3, "tok"))), ld(5, notification), num(8, 1)
)
receipt = message(ld(1, "tnt_1"), ld(2, "msg_1"), ld(3, "dlv_1"), ld(4, "dev_1"), num(5, 1), num(6, 1), num(9, 1))

seeds = {
    "request_validation": {"send_user": send_user, "send_ios": send_ios, "send_web": send_web,
                           "register_web": register_web, "register_ios": register_ios},
    "bus_decoding": {"accepted": message(ld(1, accepted)), "send": message(ld(1, task), num(2, 5)),
                     "receipts": message(ld(1, receipt))},
    "urls": {"https": b"https://shop.example/orders/42?x=1#y", "deeplink": b"shop://orders/42",
             "javascript": b"javascript:alert(1)", "spaced": b" https://a.example"},
    "webhook_urls": {"https": b"https://hooks.example.com/herald", "loopback": b"http://127.0.0.1:8080/x",
                     "mapped": b"https://[::ffff:7f00:1]/#f", "spaced": b" https://a.example  "},
    "digest_challenges": {"rfc": b'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf", opaque="FQhe"',
                          "two": b'Basic realm="x", Digest realm="r", nonce="n", algorithm=MD5-sess',
                          "escaped": b'Digest realm="a \\"b\\"", nonce="n"'},
    "sealed_tokens": {"short": b"\x00" * 12, "token": bytes(range(40))},
    "trigger_conditions": {"bot": b"bot.id == 'b1' && priority >= 2\x00{\"bot\": {\"id\": \"b1\"}, \"priority\": 3}",
                           "has": b"!has(event.author_uuid) || event.author_uuid != event.user_uuid\x00{\"user_uuid\": \"u\"}",
                           "list": b"[1, 2, 3].exists(x, x > n)\x00{\"n\": 2}"},
    "wazo_requests": {"seed": b'{"title": "Example notification", "body": "This is an example notification", "notification_type": "exampleNotification", "extra": {"mykey": "myvalue"}, "user_uuid": "123e4567-e89b-12d3-a456-426614174000"}',
                      "braces": b'{"title": "{{ x }}", "body": "{% if %}", "notification_type": "a", "extra": {"items": {"k": [1]}}, "user_uuid": "123e4567-e89b-12d3-a456-426614174000"}'},
}
for target, files in seeds.items():
    os.makedirs(target, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(target, name), "wb") as f:
            f.write(data)
