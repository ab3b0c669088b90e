// A small portal talking to the followup gRPC service.
//
// It lists a plan's overdue tasks, reports the first one done with evidence, shows how to
// read the rich error details of a rejected call, pages through a list, and watches the event
// stream until the change it made shows up.
//
//   npm ci
//   FOLLOWUP_TARGET=127.0.0.1:50051 FOLLOWUP_KEY=fu1.demo.... node portal.mjs
//
// Environment:
//   FOLLOWUP_TARGET  host:port of the service, plaintext (default 127.0.0.1:50051)
//   FOLLOWUP_KEY     API key, sent as `authorization: Bearer <key>` (required)
//   FOLLOWUP_PLAN    the plan to work on (default plans/kh-963-ubnd)
//
// Exits 0 when every step succeeded, 1 when one failed, 2 when the configuration is missing.
// Step 3 changes data: on the demo data it succeeds once per fresh server.

import { fileURLToPath } from 'node:url';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PROTO_DIR = path.resolve(here, '../../proto');
const TIMEOUT_MS = 10_000; // deadline of every call, the event stream included

// The service definitions, loaded at run time from the .proto files (no code generation).
// keepCase: fields keep their proto names (lead_unit, next_page_token), as in the API docs.
const packageDefinition = protoLoader.loadSync(
  ['followup/v1/task.proto', 'followup/v1/event.proto'],
  {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    enums: String, // enum values as their names: 'TASK_STATE_IN_PROGRESS'
    longs: String, // int64 as strings: event_id '126'
    defaults: true, // unset fields come with their default values
    oneofs: true, // task.due names the member that is set: 'due_date' or 'standing'
  },
);
const { followup } = grpc.loadPackageDefinition(packageDefinition);

// google.rpc.Status and its details (vendored from googleapis into the repository's proto/),
// to decode the grpc-status-details-bin trailer.
const rpcTypes = new protobuf.Root().loadSync(
  ['status.proto', 'error_details.proto'].map((f) => path.join(PROTO_DIR, 'google/rpc', f)),
  { keepCase: true },
);
const Status = rpcTypes.lookupType('google.rpc.Status');

class StepFailed extends Error {}

function check(condition, message) {
  if (!condition) throw new StepFailed(message);
}

// Calls a unary method and returns a promise of its response.
function unary(client, method, request, metadata) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + TIMEOUT_MS;
    client[method](request, metadata, { deadline }, (err, response) =>
      err ? reject(err) : resolve(response),
    );
  });
}

// The google.rpc.Status a failed call carries, with its details unpacked; null without one.
function richStatus(err) {
  const [bin] = err.metadata?.get('grpc-status-details-bin') ?? [];
  if (!bin) return null;
  const status = Status.decode(bin);
  const details = status.details.map((any) => {
    const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    const type = rpcTypes.lookup(typeName); // null for types this example does not know
    return { typeName, message: type ? type.decode(any.value) : null };
  });
  return { code: status.code, message: status.message, details };
}

const date = (d) =>
  `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;

async function main() {
  const target = process.env.FOLLOWUP_TARGET || '127.0.0.1:50051';
  const key = (process.env.FOLLOWUP_KEY || '').trim();
  const plan = process.env.FOLLOWUP_PLAN || 'plans/kh-963-ubnd';
  if (!key) {
    console.error(
      'FOLLOWUP_KEY is not set: export the API key the service printed on its first start (fu1....).',
    );
    return 2;
  }

  // 1. Authenticate: every call carries the key as call metadata.
  const auth = new grpc.Metadata();
  auth.set('authorization', `Bearer ${key}`);
  const credentials = grpc.credentials.createInsecure();
  const tasks = new followup.v1.TaskService(target, credentials);
  const events = new followup.v1.EventService(target, credentials);
  const started = performance.now();
  console.log(`Server ${target}, plan ${plan}`);

  try {
    // 2. The plan's overdue tasks.
    const { tasks: overdue } = await unary(
      tasks,
      'ListTasks',
      { parent: plan, filter: 'timeliness = TIMELINESS_OPEN_OVERDUE' },
      auth,
    );
    console.log(`[2] ${overdue.length} overdue task(s):`);
    for (const t of overdue) {
      const due = t.due === 'due_date' ? date(t.effective_due_date) : 'standing';
      console.log(`    ${t.name}  lead ${t.lead_unit}  due ${due}  ${t.state}`);
      console.log(`      ${t.title}`);
    }
    check(overdue.length > 0, `no overdue task in ${plan}`);

    // 3. Report the first overdue task done, with evidence. Tasks already reported done stay
    //    overdue until accepted, but cannot be reported again.
    const todo = overdue.filter((t) =>
      ['TASK_STATE_NOT_STARTED', 'TASK_STATE_IN_PROGRESS'].includes(t.state),
    );
    check(
      todo.length > 0,
      'every overdue task is already reported done (an earlier run used the demo data: start a fresh server)',
    );
    const description = 'Đã tổ chức kiểm điểm.';
    const task = await unary(
      tasks,
      'ReportTaskDone',
      { name: todo[0].name, evidence: { document_ref: '88/BC-UBND', description } },
      auth,
    );
    console.log(
      `[3] reported done: ${task.name} -> ${task.state}, evidence ` +
        `'${task.evidence.document_ref}' '${task.evidence.description}'`,
    );
    check(task.state === 'TASK_STATE_REPORTED_DONE', `unexpected state ${task.state}`);
    check(task.evidence.description === description, 'evidence text changed');

    // 4. A rejected call and its details (google.rpc.Status in grpc-status-details-bin).
    let rejected = null;
    try {
      await unary(tasks, 'ListTasks', { parent: plan, filter: 'colour = "red"' }, auth);
    } catch (err) {
      rejected = err;
    }
    check(rejected, 'a filter on an unknown field was accepted');
    console.log(`[4] rejected: ${grpc.status[rejected.code]}: ${rejected.details}`);
    check(rejected.code === grpc.status.INVALID_ARGUMENT, `got ${grpc.status[rejected.code]}`);
    const status = richStatus(rejected);
    check(status, 'no grpc-status-details-bin trailer');
    const violations = [];
    for (const { typeName, message } of status.details) {
      if (typeName === 'google.rpc.BadRequest') {
        for (const v of message.field_violations) {
          console.log(`    BadRequest: field '${v.field}': ${v.description}`);
          violations.push(v.field);
        }
      } else if (typeName === 'google.rpc.ErrorInfo') {
        console.log(
          `    ErrorInfo: reason ${message.reason}, domain ${message.domain}, ` +
            `metadata ${JSON.stringify(message.metadata)}`,
        );
      } else {
        console.log(`    other detail: ${typeName}`);
      }
    }
    check(violations.includes('filter'), `no violation on field 'filter' (got ${violations})`);

    // 5. Page through the plan's tasks, 3 at a time.
    const names = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await unary(
        tasks,
        'ListTasks',
        { parent: plan, page_size: 3, page_token: pageToken },
        auth,
      );
      pages += 1;
      names.push(...page.tasks.map((t) => t.name));
      pageToken = page.next_page_token;
    } while (pageToken);
    const everything = await unary(tasks, 'ListTasks', { parent: plan, page_size: 1000 }, auth);
    console.log(
      `[5] ${names.length} tasks in ${pages} pages of 3; ` +
        `${everything.tasks.length} in one page of 1000`,
    );
    check(new Set(names).size === names.length, 'a task came twice');
    check(names.length === everything.tasks.length, 'paging and one page disagree');
    check(!everything.next_page_token, 'the big page was not the last');

    // 6. Watch the plan's events from the oldest kept until our report shows up.
    const { event: ours, seen } = await new Promise((resolve, reject) => {
      const stream = events.WatchEvents(
        { after_event_id: 0, resource_prefix: `${plan}/` },
        auth,
        { deadline: Date.now() + TIMEOUT_MS },
      );
      let seen = 0;
      let found = null;
      stream.on('data', (event) => {
        seen += 1;
        if (!found && event.type === 'task.reported_done' && event.resource === task.name) {
          found = event;
          stream.cancel(); // done listening; ends the call with CANCELLED, below
        }
      });
      stream.on('error', (err) => {
        if (found && err.code === grpc.status.CANCELLED) resolve({ event: found, seen });
        else
          reject(
            new StepFailed(
              `event stream ended after ${seen} events without ours: ` +
                `${grpc.status[err.code]}: ${err.details}`,
            ),
          );
      });
      stream.on('end', () => {
        if (found) resolve({ event: found, seen });
        else reject(new StepFailed(`event stream closed after ${seen} events without ours`));
      });
    });
    console.log(`[6] event ${ours.event_id} ${ours.type} ${ours.resource} (${seen} events read)`);
  } finally {
    tasks.close();
    events.close();
  }

  console.log(`All steps passed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  if (err instanceof StepFailed) console.error(`FAILED: ${err.message}`);
  else if (err.code !== undefined && grpc.status[err.code])
    console.error(`FAILED: ${grpc.status[err.code]}: ${err.details}`);
  else console.error('FAILED:', err);
  process.exitCode = 1;
}
