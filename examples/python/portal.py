#!/usr/bin/env python3
"""A small portal talking to the followup gRPC service.

It lists a plan's overdue tasks, reports the first one done with evidence, shows how to read
the rich error details of a rejected call, pages through a list, and watches the event stream
until the change it made shows up.

    pip install -r requirements.txt
    FOLLOWUP_TARGET=127.0.0.1:50051 FOLLOWUP_KEY=fu1.demo.... python portal.py

Environment:
    FOLLOWUP_TARGET  host:port of the service, plaintext (default 127.0.0.1:50051)
    FOLLOWUP_KEY     API key, sent as `authorization: Bearer <key>` (required)
    FOLLOWUP_PLAN    the plan to work on (default plans/kh-963-ubnd)

Exits 0 when every step succeeded, 1 when one failed, 2 when the configuration is missing.
Step 3 changes data: on the demo data it succeeds once per fresh server.
"""

import importlib.resources
import os
import pathlib
import sys
import time

import grpc
from grpc_tools import protoc

HERE = pathlib.Path(__file__).resolve().parent
PROTO_DIR = HERE.parent.parent / "proto"
GENERATED = HERE / "generated"

TIMEOUT_S = 10  # deadline of every call, the event stream included


def generate_stubs():
    """Compiles ../../proto/followup/v1/*.proto into ./generated (messages and stubs).

    google/type/date.proto is not compiled: googleapis-common-protos (which grpcio-status
    needs anyway) already ships it as google.type.date_pb2, and two copies of one .proto
    file in the same process would clash.
    """
    GENERATED.mkdir(exist_ok=True)
    well_known = importlib.resources.files("grpc_tools") / "_proto"  # google/protobuf/*.proto
    protos = sorted(str(p) for p in (PROTO_DIR / "followup" / "v1").glob("*.proto"))
    code = protoc.main([
        "grpc_tools.protoc",
        f"--proto_path={PROTO_DIR}",
        f"--proto_path={well_known}",
        f"--python_out={GENERATED}",
        f"--grpc_python_out={GENERATED}",
        *protos,
    ])
    if code != 0:
        sys.exit(f"protoc failed ({code}) compiling {PROTO_DIR}")
    sys.path.insert(0, str(GENERATED))


class StepFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise StepFailed(message)


def main():
    sys.stdout.reconfigure(encoding="utf-8")  # Vietnamese text, whatever the locale
    target = os.environ.get("FOLLOWUP_TARGET", "127.0.0.1:50051")
    key = os.environ.get("FOLLOWUP_KEY", "").strip()
    plan = os.environ.get("FOLLOWUP_PLAN", "plans/kh-963-ubnd")
    if not key:
        print("FOLLOWUP_KEY is not set: export the API key the service printed on its first "
              "start (fu1....).", file=sys.stderr)
        return 2

    generate_stubs()
    # Imported only now: these modules are the ones generate_stubs() just wrote.
    from followup.v1 import event_pb2, event_pb2_grpc, task_pb2, task_pb2_grpc
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    # 1. Authenticate: every call carries the key as call metadata.
    auth = [("authorization", f"Bearer {key}")]
    started = time.monotonic()
    with grpc.insecure_channel(target) as channel:
        tasks = task_pb2_grpc.TaskServiceStub(channel)
        events = event_pb2_grpc.EventServiceStub(channel)
        print(f"Server {target}, plan {plan}")

        def date(d):
            return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"

        # 2. The plan's overdue tasks.
        overdue = tasks.ListTasks(
            task_pb2.ListTasksRequest(parent=plan, filter="timeliness = TIMELINESS_OPEN_OVERDUE"),
            metadata=auth, timeout=TIMEOUT_S,
        ).tasks
        print(f"[2] {len(overdue)} overdue task(s):")
        for t in overdue:
            due = date(t.effective_due_date) if t.WhichOneof("due") == "due_date" else "standing"
            print(f"    {t.name}  lead {t.lead_unit}  due {due}  "
                  f"{task_pb2.TaskState.Name(t.state)}")
            print(f"      {t.title}")
        check(len(overdue) > 0, f"no overdue task in {plan}")

        # 3. Report the first overdue task done, with evidence. Tasks already reported done
        #    stay overdue until accepted, but cannot be reported again.
        reportable = (task_pb2.TASK_STATE_NOT_STARTED, task_pb2.TASK_STATE_IN_PROGRESS)
        todo = [t for t in overdue if t.state in reportable]
        check(len(todo) > 0, "every overdue task is already reported done (an earlier run "
                             "used the demo data: start a fresh server)")
        task = tasks.ReportTaskDone(
            task_pb2.ReportTaskDoneRequest(
                name=todo[0].name,
                evidence=task_pb2.Evidence(document_ref="88/BC-UBND",
                                           description="Đã tổ chức kiểm điểm."),
            ),
            metadata=auth, timeout=TIMEOUT_S,
        )
        state = task_pb2.TaskState.Name(task.state)
        print(f"[3] reported done: {task.name} -> {state}, "
              f"evidence {task.evidence.document_ref!r} {task.evidence.description!r}")
        check(task.state == task_pb2.TASK_STATE_REPORTED_DONE, f"unexpected state {state}")
        check(task.evidence.description == "Đã tổ chức kiểm điểm.", "evidence text changed")

        # 4. A rejected call and its details (google.rpc.Status in grpc-status-details-bin).
        try:
            tasks.ListTasks(task_pb2.ListTasksRequest(parent=plan, filter='colour = "red"'),
                            metadata=auth, timeout=TIMEOUT_S)
            raise StepFailed("a filter on an unknown field was accepted")
        except grpc.RpcError as err:
            print(f"[4] rejected: {err.code().name}: {err.details()}")
            check(err.code() == grpc.StatusCode.INVALID_ARGUMENT, f"got {err.code().name}")
            status = rpc_status.from_call(err)  # None when the server sent no details
            check(status is not None, "no grpc-status-details-bin trailer")
            violations = []
            for detail in status.details:
                if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad_request = error_details_pb2.BadRequest()
                    detail.Unpack(bad_request)
                    for v in bad_request.field_violations:
                        print(f"    BadRequest: field {v.field!r}: {v.description}")
                        violations.append(v.field)
                elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    print(f"    ErrorInfo: reason {info.reason}, domain {info.domain}, "
                          f"metadata {dict(info.metadata)}")
                else:
                    print(f"    other detail: {detail.type_url}")
            check("filter" in violations, f"no violation on field 'filter' (got {violations})")

        # 5. Page through the plan's tasks, 3 at a time.
        names, token, pages = [], "", 0
        while True:
            page = tasks.ListTasks(
                task_pb2.ListTasksRequest(parent=plan, page_size=3, page_token=token),
                metadata=auth, timeout=TIMEOUT_S,
            )
            pages += 1
            names += [t.name for t in page.tasks]
            token = page.next_page_token
            if not token:
                break
        everything = tasks.ListTasks(task_pb2.ListTasksRequest(parent=plan, page_size=1000),
                                     metadata=auth, timeout=TIMEOUT_S)
        print(f"[5] {len(names)} tasks in {pages} pages of 3; "
              f"{len(everything.tasks)} in one page of 1000")
        check(len(names) == len(set(names)), "a task came twice")
        check(len(names) == len(everything.tasks), "paging and one page disagree")
        check(not everything.next_page_token, "the big page was not the last")

        # 6. Watch the plan's events from the oldest kept until our report shows up.
        stream = events.WatchEvents(
            event_pb2.WatchEventsRequest(after_event_id=0, resource_prefix=f"{plan}/"),
            metadata=auth, timeout=TIMEOUT_S,
        )
        seen, ours = 0, None
        try:
            for event in stream:
                seen += 1
                if event.type == "task.reported_done" and event.resource == task.name:
                    ours = event
                    break
        except grpc.RpcError as err:  # DEADLINE_EXCEEDED if ours never came
            raise StepFailed(f"event stream ended after {seen} events without ours: "
                             f"{err.code().name}: {err.details()}")
        finally:
            stream.cancel()  # done listening; without this the stream stays open
        check(ours is not None, f"event stream closed after {seen} events without ours")
        print(f"[6] event {ours.event_id} {ours.type} {ours.resource} ({seen} events read)")

    print(f"All steps passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except StepFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
    except grpc.RpcError as err:
        print(f"FAILED: {err.code().name}: {err.details()}", file=sys.stderr)
        sys.exit(1)
