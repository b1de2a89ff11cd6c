#!/usr/bin/env python3
"""A durable work queue, as in RabbitMQ's tutorial 2: a producer publishes persistent tasks to a
durable queue; a worker with prefetch 1 and manual acks processes them one at a time.

    python3 examples/work_queue.py [--port 5672] [--count 10]

Exits 0 when the worker has acked every task the producer sent, in order."""
import argparse
import sys

import pika

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=5672)
parser.add_argument("--count", type=int, default=10)
parser.add_argument("--queue", default="example.tasks")
args = parser.parse_args()

params = pika.ConnectionParameters(host=args.host, port=args.port)

# Producer: a durable queue and persistent messages.
producer = pika.BlockingConnection(params)
channel = producer.channel()
channel.queue_declare(queue=args.queue, durable=True)
channel.queue_purge(queue=args.queue)
for i in range(args.count):
    channel.basic_publish(exchange="", routing_key=args.queue, body=f"task {i}".encode(),
                          properties=pika.BasicProperties(delivery_mode=2))
producer.close()

# Worker: prefetch 1, manual acks.
worker = pika.BlockingConnection(params)
channel = worker.channel()
channel.basic_qos(prefetch_count=1)
seen = []


def on_task(ch, method, properties, body):
    seen.append(body.decode())
    ch.basic_ack(delivery_tag=method.delivery_tag)
    if len(seen) == args.count:
        ch.stop_consuming()


channel.basic_consume(queue=args.queue, on_message_callback=on_task)
worker.call_later(30, channel.stop_consuming)
channel.start_consuming()
worker.close()

expected = [f"task {i}" for i in range(args.count)]
if seen != expected:
    print(f"worker saw {seen}, expected {expected}", file=sys.stderr)
    sys.exit(1)
print(f"worker processed {len(seen)} tasks in order")
