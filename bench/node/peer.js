#!/usr/bin/env node
// An OCPP-J peer built on ocpp-rpc (an independent implementation), for interop tests: a
// Central System or a Charge Point in one subprotocol, in ocpp-rpc's strict mode (every CALL
// and CALLRESULT, sent or received, checked against its copy of OCA's schemas) or not.
//
//   node peer.js cs <protocol> [--strict] [--answers <file>]
//   node peer.js cp <ws url> <identity> <protocol> [--strict] [--answers <file>]
//
// The CS listens on 127.0.0.1 (a free port) and serves one Charge Point at a time; the CP
// connects to <url>/<identity>. <file> holds a JSON object: the result to answer each
// method with; a method without one is answered NotImplemented (ocpp-rpc's own answer).
// Standard input, one JSON object a line:
//   {"id":1,"call":"Heartbeat","params":{}}     call the other end
//   {"quit":true}                               close and leave (also at end of input)
// Standard output, one JSON object a line:
//   {"event":"listening","port":9000}                                      (cs)
//   {"event":"connected","identity":"cp01","protocol":"ocpp1.6"}
//   {"event":"call","method":"Reset","params":{...}}   a CALL received, checked, answered
//   {"event":"result","id":1,"method":"Heartbeat","result":{...}}
//   {"event":"error","id":1,"method":"Heartbeat","code":"...","message":"...","details":{}}
//   {"event":"invalid","method":"...","outbound":false,"isCall":true,"message":"..."}
//                                                       strict mode refused a message
//   {"event":"bad","message":"..."}                     a frame ocpp-rpc could not read
//   {"event":"closed","code":1000,"reason":""}
'use strict';

const fs = require('node:fs');
const readline = require('node:readline');
const { RPCClient, RPCServer, createRPCError } = require('ocpp-rpc');

const args = process.argv.slice(2);
const strict = args.includes('--strict');
const answersAt = args.indexOf('--answers');
const answers = answersAt >= 0 ? JSON.parse(fs.readFileSync(args[answersAt + 1], 'utf8')) : {};
const positional = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--answers');
const [role] = positional;

function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

let peer = null; // the connected other end

function serve(client) {
    peer = client;
    emit({ event: 'connected', identity: client.identity, protocol: client.protocol });
    client.handle(({ method, params }) => {
        emit({ event: 'call', method, params });
        if (!(method in answers)) throw createRPCError('NotImplemented');
        return answers[method];
    });
    client.on('strictValidationFailure', ({ method, outbound, isCall, error }) => {
        emit({ event: 'invalid', method, outbound, isCall, message: error.message });
    });
    client.on('badMessage', ({ error }) => emit({ event: 'bad', message: error.message }));
    client.on('close', ({ code, reason }) => {
        emit({ event: 'closed', code, reason: String(reason || '') });
    });
}

async function call(id, method, params) {
    try {
        const result = await peer.call(method, params);
        emit({ event: 'result', id, method, result });
    } catch (err) {
        emit({
            event: 'error', id, method, code: err.rpcErrorCode || err.name, message: err.message,
            details: err.details || {},
        });
    }
}

async function start() {
    if (role === 'cs') {
        const [, protocol] = positional;
        const server = new RPCServer({ protocols: [protocol], strictMode: strict });
        server.on('client', serve);
        const http = await server.listen(0, '127.0.0.1');
        emit({ event: 'listening', port: http.address().port });
        return () => server.close({ awaitPending: false, force: true });
    }
    if (role === 'cp') {
        const [, endpoint, identity, protocol] = positional;
        const client = new RPCClient({
            endpoint, identity, protocols: [protocol], strictMode: strict, reconnect: false,
            callTimeoutMs: 20000,
        });
        await client.connect();
        serve(client);
        return () => client.close({ force: true });
    }
    throw Error('usage: node peer.js cs <protocol> | cp <url> <identity> <protocol>');
}

async function main() {
    const stop = await start();
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', (line) => {
        if (!line.trim()) return;
        const order = JSON.parse(line);
        if (order.quit) rl.close();
        else call(order.id, order.call, order.params || {});
    });
    rl.on('close', async () => {
        await stop();
        process.exit(0);
    });
}

main().catch((err) => {
    emit({ event: 'error', method: 'start', code: err.name, message: err.message });
    process.exit(1);
});
