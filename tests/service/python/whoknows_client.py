#!/usr/bin/python3
"""Python client for the whoknows gRPC API, used by grpc_python_test.

Stubs are generated at test time into GEN_DIR:
  protoc -I proto -I /usr/share/grpc-proto/grpc/health/v1 \
         -I /usr/share/grpc-proto/grpc/reflection/v1alpha \
         --python_out=GEN --grpc_out=GEN --plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin \
         whoknows/v1/whoknows.proto health.proto reflection.proto

Usage: whoknows_client.py GEN_DIR HOST:PORT QUERY [TOKEN]
Prints one JSON object: experts (person ids, best first), health, services.
"""
import json
import sys

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
import health_pb2  # noqa: E402
import health_pb2_grpc  # noqa: E402
import reflection_pb2  # noqa: E402
import reflection_pb2_grpc  # noqa: E402
from whoknows.v1 import whoknows_pb2, whoknows_pb2_grpc  # noqa: E402


def main():
    address, query = sys.argv[2], sys.argv[3]
    token = sys.argv[4] if len(sys.argv) > 4 else ""
    metadata = [("authorization", "Bearer " + token)] if token else []
    with grpc.insecure_channel(address) as channel:
        stub = whoknows_pb2_grpc.WhoKnowsStub(channel)
        resp = stub.FindExperts(whoknows_pb2.FindExpertsRequest(text=query, k=10),
                                metadata=metadata, timeout=10)
        try:
            stub.FindExperts(whoknows_pb2.FindExpertsRequest(text=query, page_token="%%bad"),
                             metadata=metadata, timeout=10)
            bad_token = "OK"
        except grpc.RpcError as e:
            bad_token = e.code().name
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="whoknows.v1.WhoKnows"), timeout=10)
        refl = reflection_pb2_grpc.ServerReflectionStub(channel)
        services = []
        for r in refl.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10):
            services += [s.name for s in r.list_services_response.service]
        print(json.dumps({
            "experts": [e.person_id for e in resp.experts],
            "names": [e.name for e in resp.experts],
            "evidence": sum(len(e.evidence) for e in resp.experts),
            "bad_token": bad_token,
            "health": health_pb2.HealthCheckResponse.ServingStatus.Name(health.status),
            "services": services,
        }))


if __name__ == "__main__":
    main()
