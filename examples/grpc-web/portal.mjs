// A small portal talking to the followup service over gRPC-Web, the protocol a browser uses.
//
// It reads a plan, lists its overdue tasks, reports the first one done with evidence, shows how
// to read the rich error details of a rejected call, pages through a list, and watches the event
// stream (server streaming) until the change it made shows up.
//
//   npm ci                  # also builds gen/*.binpb from the .proto files (npm run build:schemas)
//   FOLLOWUP_URL=http://127.0.0.1:50051 FOLLOWUP_KEY=fu1.demo.... node portal.mjs
//
// Environment:
//   FOLLOWUP_URL   base URL of the service (default http://127.0.0.1:50051)
//   FOLLOWUP_KEY   API key, sent as `authorization: Bearer <key>` (required)
//   FOLLOWUP_PLAN  the plan to work on (default plans/kh-963-ubnd)
//
// Exits 0 when every step succeeded, 1 when one failed, 2 when the configuration is missing.
// Step 3 changes data: on the demo data it succeeds once per fresh server.
//
// No generated code: the schemas come from a FileDescriptorSet that `npm run build:schemas`
// compiles with buf from the project's .proto files, turned into a registry at start.

import { readFileSync } from 'node:fs';
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
// In a browser: import { createGrpcWebTransport } from '@connectrpc/connect-web';
import { createGrpcWebTransport } from '@connectrpc/connect-node';

const TIMEOUT_MS = 10_000; // deadline of every call, the event stream included

// ---------------------------------------------------------------------------------------------
// Schemas: gen/followup.binpb holds the followup API with everything under the repository's
// proto/: google/type/date.proto, and google/rpc's Status and error details (ErrorInfo,
// BadRequest) that the service attaches to its errors, vendored from googleapis.

function loadDescriptorSet(file) {
  const url = new URL(`gen/${file}`, import.meta.url);
  let bytes;
  try {
    bytes = readFileSync(url);
  } catch (err) {
    throw new Error(`cannot read ${url.pathname} (${err.code}): run \`npm run build:schemas\``);
  }
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
}

const registry = loadDescriptorSet('followup.binpb');

function lookup(kind, typeName) {
  const desc = registry[`get${kind}`](typeName);
  if (!desc) throw new Error(`${typeName} is not in gen/: run \`npm run build:schemas\``);
  return desc;
}

const PlanService = lookup('Service', 'followup.v1.PlanService');
const TaskService = lookup('Service', 'followup.v1.TaskService');
const EventService = lookup('Service', 'followup.v1.EventService');
const TaskState = lookup('Enum', 'followup.v1.TaskState');
const BadRequest = lookup('Message', 'google.rpc.BadRequest');
const ErrorInfo = lookup('Message', 'google.rpc.ErrorInfo');

// Enum fields arrive as numbers; their names are in the enum's descriptor.
const stateName = (n) => TaskState.value[n]?.name ?? String(n);

// ---------------------------------------------------------------------------------------------

class StepFailed extends Error {}

function check(condition, message) {
  if (!condition) throw new StepFailed(message);
}

const date = (d) =>
  d ? `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}` : '-';

async function main() {
  const baseUrl = process.env.FOLLOWUP_URL || 'http://127.0.0.1:50051';
  const key = (process.env.FOLLOWUP_KEY || '').trim();
  const plan = process.env.FOLLOWUP_PLAN || 'plans/kh-963-ubnd';
  if (!key) {
    console.error(
      'FOLLOWUP_KEY is not set: export the API key the service printed on its first start (fu1....).',
    );
    return 2;
  }

  // 0. The transport: gRPC-Web over HTTP/1.1, as a browser speaks it. An interceptor adds the
  //    key to every request; a browser portal would do the same with the user's key.
  const transport = createGrpcWebTransport({
    baseUrl,
    httpVersion: '1.1',
    interceptors: [
      (next) => (req) => {
        req.header.set('authorization', `Bearer ${key}`);
        return next(req);
      },
    ],
  });
  const plans = createClient(PlanService, transport);
  const tasks = createClient(TaskService, transport);
  const events = createClient(EventService, transport);
  const call = { timeoutMs: TIMEOUT_MS }; // sent as the grpc-timeout header
  const started = performance.now();
  console.log(`Server ${baseUrl} (gRPC-Web, HTTP/1.1), plan ${plan}`);

  // 1. The plan.
  const planMsg = await plans.getPlan({ name: plan }, call);
  console.log(`[1] plan ${planMsg.name}: ${planMsg.documentRef}  ${planMsg.title}`);
  check(planMsg.documentRef !== '', 'the plan has no document reference');

  // 2. Its overdue tasks.
  const { tasks: overdue } = await tasks.listTasks(
    { parent: plan, filter: 'timeliness = TIMELINESS_OPEN_OVERDUE' },
    call,
  );
  console.log(`[2] ${overdue.length} overdue task(s):`);
  for (const t of overdue) {
    // `due` is a oneof: { case: 'dueDate', value: Date } or { case: 'standing', value: true }.
    const due = t.due.case === 'dueDate' ? date(t.effectiveDueDate) : 'standing';
    console.log(`    ${t.name}  lead ${t.leadUnit}  due ${due}  ${stateName(t.state)}`);
    console.log(`      ${t.title}`);
  }
  check(overdue.length > 0, `no overdue task in ${plan}`);

  // 3. Report the first overdue task that is still open done, with evidence. Tasks already
  //    reported done stay overdue until accepted, but cannot be reported again.
  const todo = overdue.find((t) =>
    ['TASK_STATE_NOT_STARTED', 'TASK_STATE_IN_PROGRESS'].includes(stateName(t.state)),
  );
  check(
    todo,
    'every overdue task is already reported done (an earlier run used the demo data: start a fresh server)',
  );
  const description = 'Đã tổ chức kiểm điểm trách nhiệm tập thể, cá nhân có liên quan.';
  const reported = await tasks.reportTaskDone(
    { name: todo.name, evidence: { documentRef: '88/BC-UBND', description } },
    call,
  );
  console.log(
    `[3] reported done: ${reported.name} -> ${stateName(reported.state)}, evidence ` +
      `'${reported.evidence?.documentRef}' '${reported.evidence?.description}'`,
  );
  check(
    stateName(reported.state) === 'TASK_STATE_REPORTED_DONE',
    `unexpected state ${stateName(reported.state)}`,
  );
  check(reported.evidence?.description === description, 'evidence text changed');

  // 4. A rejected call. Its status, message and google.rpc.Status details come in the
  //    grpc-status, grpc-message and grpc-status-details-bin headers (or trailers); Connect
  //    decodes them into a ConnectError, and findDetails() unpacks the details it knows.
  let rejected = null;
  try {
    await tasks.listTasks({ parent: plan, filter: 'colour = "red"' }, call);
  } catch (err) {
    rejected = ConnectError.from(err);
  }
  check(rejected, 'a filter on an unknown field was accepted');
  console.log(`[4] rejected: ${Code[rejected.code]}: ${rejected.rawMessage}`);
  check(rejected.code === Code.InvalidArgument, `got ${Code[rejected.code]}, not InvalidArgument`);
  const violations = rejected.findDetails(BadRequest).flatMap((b) => b.fieldViolations);
  for (const v of violations) console.log(`    BadRequest: field '${v.field}': ${v.description}`);
  const infos = rejected.findDetails(ErrorInfo);
  for (const i of infos) {
    console.log(
      `    ErrorInfo: reason ${i.reason}, domain ${i.domain}, metadata ${JSON.stringify(i.metadata)}`,
    );
  }
  check(
    violations.some((v) => v.field === 'filter'),
    `no violation on field 'filter' (details: ${rejected.details.map((d) => d.type).join(', ') || 'none'})`,
  );
  check(infos.length > 0 && infos[0].reason !== '', 'no google.rpc.ErrorInfo detail');

  // 5. Page through the plan's tasks, 3 at a time, and compare with one big page.
  const names = [];
  let pageToken = '';
  let pages = 0;
  do {
    const page = await tasks.listTasks({ parent: plan, pageSize: 3, pageToken }, call);
    pages += 1;
    names.push(...page.tasks.map((t) => t.name));
    pageToken = page.nextPageToken;
    check(pages <= 1000, 'paging does not end');
  } while (pageToken);
  const everything = await tasks.listTasks({ parent: plan, pageSize: 1000 }, call);
  console.log(
    `[5] ${names.length} tasks in ${pages} pages of 3; ` +
      `${everything.tasks.length} in one page of 1000`,
  );
  check(new Set(names).size === names.length, 'a task came twice');
  check(names.length === everything.tasks.length, 'paging and one page disagree');
  check(!everything.nextPageToken, 'the big page was not the last');

  // 6. Watch the plan's events from the oldest kept until our report shows up (server
  //    streaming: gRPC-Web carries it over one long HTTP/1.1 response). The trailing '/'
  //    keeps out other plans whose name merely starts the same way. The stream never ends by
  //    itself: once the event is there, abort it with the AbortController, and the loop ends
  //    with a Canceled error. (Do not just `break`: Connect's stream iterator has no return(),
  //    so the HTTP request would stay open, and the deadline timer keep Node alive, until
  //    timeoutMs.) timeoutMs bounds the wait if the event never comes.
  const controller = new AbortController();
  let seen = 0;
  let ours = null;
  try {
    const stream = events.watchEvents(
      { afterEventId: 0n, resourcePrefix: `${plan}/` },
      { signal: controller.signal, timeoutMs: TIMEOUT_MS },
    );
    for await (const event of stream) {
      if (ours) continue; // events already received when we aborted
      seen += 1;
      if (event.type === 'task.reported_done' && event.resource === reported.name) {
        ours = event;
        controller.abort(); // done listening: closes the HTTP request
      }
    }
    check(ours, `event stream closed after ${seen} events without ours`);
  } catch (err) {
    if (err instanceof StepFailed) throw err;
    const e = ConnectError.from(err);
    if (!(ours && e.code === Code.Canceled)) {
      throw new StepFailed(
        `event stream ended after ${seen} events without ours: ${Code[e.code]}: ${e.rawMessage}`,
      );
    }
  }
  console.log(`[6] event ${ours.eventId} ${ours.type} ${ours.resource} (${seen} events read)`);

  console.log(`All steps passed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  if (err instanceof StepFailed) console.error(`FAILED: ${err.message}`);
  else if (err instanceof ConnectError) console.error(`FAILED: ${Code[err.code]}: ${err.rawMessage}`);
  else console.error('FAILED:', err);
  process.exitCode = 1;
}
