#!/usr/bin/env python3
"""Writes the RabbitMQ definitions of a throw-away broker shaped like Hub Santé (digest lrm-hub.md §2.3).

Exchanges hubsante (topic, clients publish there), distribution (direct, the dispatcher writes there) and
distribution.dlx (fanout); queues dispatch (bound to hubsante with #) and dispatch.dlq; for each client its
<id>.message, <id>.ack and <id>.info queues bound to distribution with their own names, dead-lettered to
distribution.dlx. Users log in with their certificate (EXTERNAL, no password) and may only read their own queues
and write to hubsante with their own id as routing key; the dispatcher reads dispatch and writes distribution. A
PLAIN user with a password is added for the PLAIN mechanism's test.

Usage: hub-definitions.py OUT VHOST DISPATCHER PLAIN_USER PLAIN_PASSWORD CLIENT...
"""
import base64
import hashlib
import json
import os
import re
import sys

out, vhost, dispatcher, plain_user, plain_password, *clients = sys.argv[1:]


def password_hash(password):
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


users, permissions, topic = [], [], []
queues = [{"name": name, "vhost": vhost, "durable": True, "auto_delete": False, "arguments": {}}
          for name in ("dispatch", "dispatch.dlq")]
bindings = [
    {"source": "hubsante", "vhost": vhost, "destination": "dispatch", "destination_type": "queue", "routing_key": "#", "arguments": {}},
    {"source": "distribution.dlx", "vhost": vhost, "destination": "dispatch.dlq", "destination_type": "queue", "routing_key": "", "arguments": {}},
]
for client in clients:
    users.append({"name": client, "password_hash": "", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ""})
    own = re.escape(client)
    permissions.append({"user": client, "vhost": vhost, "configure": "^$", "write": "^hubsante$",
                        "read": "^" + own + r"\.(message|ack|info)$"})
    topic.append({"user": client, "vhost": vhost, "exchange": "hubsante", "write": "^" + own + "$", "read": ".*"})
    for suffix in ("message", "ack", "info"):
        name = f"{client}.{suffix}"
        queues.append({"name": name, "vhost": vhost, "durable": True, "auto_delete": False,
                       "arguments": {"x-dead-letter-exchange": "distribution.dlx", "x-message-ttl": 86400000}})
        bindings.append({"source": "distribution", "vhost": vhost, "destination": name, "destination_type": "queue",
                         "routing_key": name, "arguments": {}})
users.append({"name": dispatcher, "password_hash": "", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ""})
permissions.append({"user": dispatcher, "vhost": vhost, "configure": "^$", "write": "^distribution$", "read": "^dispatch(\\.dlq)?$"})
users.append({"name": plain_user, "password_hash": password_hash(plain_password), "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ""})
permissions.append({"user": plain_user, "vhost": vhost, "configure": "^$", "write": "^hubsante$", "read": "^$"})
topic.append({"user": plain_user, "vhost": vhost, "exchange": "hubsante", "write": "^" + re.escape(plain_user) + "$", "read": ".*"})

definitions = {
    "vhosts": [{"name": vhost}],
    "users": users,
    "permissions": permissions,
    "topic_permissions": topic,
    "exchanges": [
        {"name": "hubsante", "vhost": vhost, "type": "topic", "durable": True, "auto_delete": False, "internal": False, "arguments": {}},
        {"name": "distribution", "vhost": vhost, "type": "direct", "durable": True, "auto_delete": False, "internal": False, "arguments": {}},
        {"name": "distribution.dlx", "vhost": vhost, "type": "fanout", "durable": True, "auto_delete": False, "internal": False, "arguments": {}},
    ],
    "queues": queues,
    "bindings": bindings,
}
with open(out, "w") as f:
    json.dump(definitions, f, indent=1)
