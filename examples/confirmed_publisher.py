#!/usr/bin/env python3
"""A publisher that uses publisher confirms and reports every message the broker did not confirm.

    python3 examples/confirmed_publisher.py [--port 5672] [--count 100]

Exits 0 when every message was confirmed (and is then in the durable queue)."""
import argparse
import sys

import pika

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=5672)
parser.add_argument("--count", type=int, default=100)
parser.add_argument("--queue", default="example.confirmed")
args = parser.parse_args()

connection = pika.BlockingConnection(pika.ConnectionParameters(host=args.host, port=args.port))
channel = connection.channel()
channel.queue_declare(queue=args.queue, durable=True)
channel.queue_purge(queue=args.queue)
channel.confirm_delivery()

unconfirmed = []
for i in range(args.count):
    try:
        channel.basic_publish(exchange="", routing_key=args.queue, body=f"message {i}".encode(),
                              properties=pika.BasicProperties(delivery_mode=2),
                              mandatory=True)
    except (pika.exceptions.NackError, pika.exceptions.UnroutableError) as e:
        unconfirmed.append((i, repr(e)))

depth = channel.queue_declare(queue=args.queue, durable=True, passive=True).method.message_count
connection.close()

if unconfirmed:
    print(f"{len(unconfirmed)} messages not confirmed: {unconfirmed[:10]}", file=sys.stderr)
    sys.exit(1)
if depth != args.count:
    print(f"all {args.count} confirmed but the queue holds {depth}", file=sys.stderr)
    sys.exit(1)
print(f"all {args.count} messages confirmed and in the queue")
