"""Every message, enum and enum value of Herald's API (package herald.v1), by name.

from herald_client import pb
pb.SendRequest(destination=pb.Destination(user_id="alice"), notification=pb.Notification(title="Hi"))
"""

from herald_client._proto.herald.v1 import *  # noqa: F401,F403
