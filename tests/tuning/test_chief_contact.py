"""A worker never waits for ever on a chief that is not there, and the deadline it puts on
each request reaches Keras Tuner's real gRPC stub (no chief: DEADLINE_EXCEEDED)."""

from __future__ import annotations

import time

import grpc
import pytest

from kerasbuild.errors import KerasbuildError
from kerasbuild.tuning.distributed import _WithDeadline, free_port, wait_for_chief


def test_a_worker_gives_up_on_an_absent_chief_with_a_located_error():
    port = free_port()
    started = time.monotonic()
    with pytest.raises(KerasbuildError) as caught:
        wait_for_chief("127.0.0.1", port, 1.5)
    assert 1.4 < time.monotonic() - started < 20
    message = str(caught.value)
    assert f"the chief at 127.0.0.1:{port} did not answer within 1.5 s" in message
    assert "run this worker again" in message
    assert caught.value.exit_code == 1


def test_each_oracle_request_carries_the_deadline():
    from keras_tuner.src import protos

    port = free_port()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = _WithDeadline(protos.get_service_grpc().OracleStub(channel), 1.0)
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetSpace(protos.get_service().GetSpaceRequest(), wait_for_ready=True)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert 0.9 < time.monotonic() - started < 20
