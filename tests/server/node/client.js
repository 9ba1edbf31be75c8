// client.js — caad through an independent gRPC implementation (grpc-js, pure
// JavaScript HTTP/2, .proto files loaded at run time): caa.v1.CAA/Check,
// /Evaluate, va.CAA/DoCAA, and an unknown method. Exit status 0 when every
// answer is what the DNS lab says it must be.
//
//   node client.js HOST:PORT PROTO_DIR
'use strict';
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const [target, protoDir] = process.argv.slice(2);
const opts = {keepCase: true, longs: String, enums: String, defaults: true,
              includeDirs: [protoDir, '/usr/include']};
const caa = grpc.loadPackageDefinition(loader.loadSync('caa/v1/caa.proto', opts)).caa.v1;
const va = grpc.loadPackageDefinition(loader.loadSync('va/va.proto', opts)).va;
const creds = grpc.credentials.createInsecure();
const caaClient = new caa.CAA(target, creds);
const vaClient = new va.CAA(target, creds);

let failures = 0;
function check(cond, what) {
  if (!cond) {
    failures++;
    console.error('FAIL grpc-js: ' + what);
  }
}
function call(client, method, req) {
  return new Promise((resolve) => {
    client[method](req, {deadline: Date.now() + 20000},
                   (err, res) => resolve({err, res}));
  });
}
const account = 'https://ca.example/acme/acct/1';

async function main() {
  let r = await call(caaClient, 'Check', {identifier: {type: 'dns', value: 'issue-permit.lab'},
                                          account_uri: account, validation_method: 'dns-01'});
  check(!r.err, 'Check: ' + (r.err && r.err.message));
  if (r.res) {
    check(r.res.verdict === 'PERMITTED', 'verdict ' + r.res.verdict);
    check(r.res.reason === 'AUTHORIZED', 'reason ' + r.res.reason);
    check(r.res.relevant_domain === 'issue-permit.lab', 'relevant ' + r.res.relevant_domain);
    check(r.res.records.length === 1 && r.res.records[0].value === 'ca.example', 'records');
    check(r.res.problem === null, 'problem on a permitted check');
    check(r.res.checked_at && Number(r.res.checked_at.seconds) > 1600000000, 'checked_at');
  }

  r = await call(caaClient, 'Check', {identifier: {value: 'www.issue-deny.lab'},
                                      account_uri: account, explain: true});
  check(!r.err, 'Check (forbidden): ' + (r.err && r.err.message));
  if (r.res) {
    check(r.res.verdict === 'FORBIDDEN', 'verdict ' + r.res.verdict);
    check(r.res.problem && r.res.problem.type === 'urn:ietf:params:acme:error:caa' &&
          r.res.problem.status === 403, 'problem ' + JSON.stringify(r.res.problem));
    check(r.res.trace.length === 3, 'trace of ' + r.res.trace.length + ' labels');
  }

  r = await call(caaClient, 'Evaluate', {identifier: {value: 'shop.example'},
                                         labels: [{name: 'shop.example',
                                                   records: [{flags: 0, tag: 'issue',
                                                              value: 'ca.example'}]}]});
  check(!r.err && r.res.result.verdict === 'PERMITTED', 'Evaluate');

  r = await call(vaClient, 'DoCAA', {identifier: {type: 'dns', value: 'www.issue-deny.lab'},
                                     validationMethod: 'dns-01', accountURIID: '1',
                                     authzID: '42'});
  check(!r.err, 'DoCAA: ' + (r.err && r.err.message));
  if (r.res) {
    check(r.res.problem && r.res.problem.problemType === 'caa' &&
          r.res.problem.httpStatus === 403, 'DoCAA problem ' + JSON.stringify(r.res.problem));
    check(r.res.perspective === 'primary', 'perspective ' + r.res.perspective);
  }
  r = await call(vaClient, 'DoCAA', {domain: 'issue-permit.lab', validationMethod: 'dns-01',
                                     accountURIID: '1'});
  check(!r.err && r.res.problem === null, 'DoCAA (permitted, legacy domain)');

  r = await call(caaClient, 'Check', {identifier: {value: 'a..b.lab'}});
  check(r.err && r.err.code === grpc.status.INVALID_ARGUMENT, 'bad name');

  // Answered UNIMPLEMENTED, not left to the deadline (which only catches a
  // hang: such a call would end DEADLINE_EXCEEDED).
  const unknown = await new Promise((resolve) => {
    const client = new grpc.Client(target, creds);
    client.makeUnaryRequest('/caa.v1.CAA/Nope', (x) => x, (x) => x, Buffer.alloc(0),
                            {deadline: Date.now() + 20000}, (err) => resolve({err}));
  });
  check(unknown.err && unknown.err.code === grpc.status.UNIMPLEMENTED,
        'unknown method: ' + (unknown.err && unknown.err.code));

  // A string with an embedded NUL is refused naming the field, never checked
  // as the part before the NUL.
  r = await call(caaClient, 'Check', {identifier: {type: 'dns', value: 'issue-permit.lab\u0000.evil.example'},
                                      account_uri: account, validation_method: 'dns-01'});
  check(r.err && r.err.code === grpc.status.INVALID_ARGUMENT &&
        r.err.details.startsWith('identifier.value '), 'NUL in identifier.value: ' +
        (r.err ? r.err.code + ' ' + r.err.details : 'answered'));
  r = await call(vaClient, 'DoCAA', {identifier: {type: 'dns', value: 'issue-permit.lab'},
                                     validationMethod: 'dns-02', accountURIID: '1'});
  check(r.err && r.err.code === grpc.status.INVALID_ARGUMENT &&
        r.err.details.startsWith('validationMethod "dns-02"'), 'DoCAA dns-02: ' +
        (r.err ? r.err.code + ' ' + r.err.details : 'answered'));

  caaClient.close();
  vaClient.close();
  console.log(failures ? 'grpc-js: FAIL' : 'grpc-js: PASS');
  process.exit(failures ? 1 : 0);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
