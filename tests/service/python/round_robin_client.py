#!/usr/bin/python3
"""Calls GetStats N times over one round_robin channel to several replicas (README "Clients over replicas").

Usage: round_robin_client.py GEN_DIR IP:PORT,IP:PORT,... N
Prints one JSON object: documents (the document count of each answer, in call order).
"""
import json
import sys

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
from whoknows.v1 import whoknows_pb2, whoknows_pb2_grpc  # noqa: E402


def main():
    addresses, n = sys.argv[2], int(sys.argv[3])
    channel = grpc.insecure_channel("ipv4:" + addresses, options=[("grpc.lb_policy_name", "round_robin")])
    grpc.channel_ready_future(channel).result(timeout=10)
    stub = whoknows_pb2_grpc.WhoKnowsStub(channel)
    docs = [stub.GetStats(whoknows_pb2.GetStatsRequest(), timeout=10).documents for _ in range(n)]
    print(json.dumps({"documents": docs}))


if __name__ == "__main__":
    main()
