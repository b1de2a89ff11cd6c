#!/usr/bin/env python3
"""RPC as in RabbitMQ's tutorial 6, with direct reply-to: a server answers Fibonacci requests from a queue;
the client consumes its replies from the pseudo-queue amq.rabbitmq.reply-to (no-ack, no reply queue to
declare) and matches them to its calls by correlation id.

    python3 examples/rpc.py [--port 5672] [--count 10]

Exits 0 when every call got its own answer."""
import argparse
import sys
import threading
import time
import uuid

import pika

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=5672)
parser.add_argument("--count", type=int, default=10)
parser.add_argument("--queue", default="example.rpc")
args = parser.parse_args()

params = pika.ConnectionParameters(host=args.host, port=args.port)
REPLY_TO = "amq.rabbitmq.reply-to"


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def serve(ready, stop):
    """The RPC server: its own connection, in its own thread (pika connections are not shared)."""
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.queue_declare(queue=args.queue, auto_delete=True)
    channel.basic_qos(prefetch_count=1)

    def on_request(ch, method, properties, body):
        # properties.reply_to is amq.rabbitmq.reply-to.<token>: the broker rewrote it for the requester.
        ch.basic_publish(exchange="", routing_key=properties.reply_to,
                         properties=pika.BasicProperties(correlation_id=properties.correlation_id),
                         body=str(fib(int(body))).encode())
        ch.basic_ack(delivery_tag=method.delivery_tag)

    channel.basic_consume(queue=args.queue, on_message_callback=on_request)
    ready.set()
    while not stop.is_set():
        connection.process_data_events(time_limit=0.1)
    connection.close()


class FibonacciRpcClient:
    def __init__(self):
        self.connection = pika.BlockingConnection(params)
        self.channel = self.connection.channel()
        # Consume before publishing, on the channel that publishes, in no-ack mode: direct reply-to's rules.
        self.channel.basic_consume(queue=REPLY_TO, on_message_callback=self.on_response, auto_ack=True)
        self.corr_id = None
        self.response = None

    def on_response(self, ch, method, properties, body):
        if properties.correlation_id == self.corr_id:
            self.response = body

    def call(self, n, timeout=10):
        self.response = None
        self.corr_id = str(uuid.uuid4())
        self.channel.basic_publish(exchange="", routing_key=args.queue,
                                   properties=pika.BasicProperties(reply_to=REPLY_TO, correlation_id=self.corr_id),
                                   body=str(n).encode())
        deadline = time.monotonic() + timeout
        while self.response is None and time.monotonic() < deadline:
            self.connection.process_data_events(time_limit=0.1)
        return None if self.response is None else int(self.response)

    def close(self):
        self.connection.close()


ready, stop = threading.Event(), threading.Event()
server = threading.Thread(target=serve, args=(ready, stop))
server.start()
try:
    if not ready.wait(30):
        print("the RPC server did not start", file=sys.stderr)
        sys.exit(1)
    client = FibonacciRpcClient()
    answers = [client.call(n) for n in range(args.count)]
    client.close()
finally:
    stop.set()
    server.join(30)

expected = [fib(n) for n in range(args.count)]
if answers != expected:
    print(f"client got {answers}, expected {expected}", file=sys.stderr)
    sys.exit(1)
print(f"client got {len(answers)} answers through direct reply-to")
