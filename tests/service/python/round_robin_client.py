#!/usr/bin/python3
"""Calls GetStats over one round_robin channel to several replicas (README "Clients over replicas").

Usage: round_robin_client.py GEN_DIR IP:PORT,IP:PORT,... N
Calls N times, then goes on (for up to 30 s) until it has seen as many distinct
document counts as there are addresses: round_robin only uses a replica once
its connection is ready, which on a loaded box can take longer than N calls.
(The test gives each replica a different document count.)
Prints one JSON object: documents (the document count of each answer, in call order).
"""
import json
import sys
import time

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
from whoknows.v1 import whoknows_pb2, whoknows_pb2_grpc  # noqa: E402


def main():
    addresses, n = sys.argv[2], int(sys.argv[3])
    channel = grpc.insecure_channel("ipv4:" + addresses, options=[("grpc.lb_policy_name", "round_robin")])
    grpc.channel_ready_future(channel).result(timeout=60)
    stub = whoknows_pb2_grpc.WhoKnowsStub(channel)
    replicas = len(addresses.split(","))
    deadline = time.monotonic() + 30
    docs = []
    while len(docs) < n or (len(set(docs)) < replicas and time.monotonic() < deadline):
        docs.append(stub.GetStats(whoknows_pb2.GetStatsRequest(), timeout=30).documents)
    print(json.dumps({"documents": docs}))


if __name__ == "__main__":
    main()
