#!/usr/bin/env node
// A Central System built on ocpp-rpc (an independent OCPP-J implementation), for interop
// tests and as a benchmark baseline.
//
//   node cs.js [port] [--verbose]
//
// Listens on 127.0.0.1:<port> (0 or absent: a free port) for any path and identity,
// subprotocols ocpp1.5 and ocpp1.2, no schema validation (ocpp-rpc has no 1.x schemas),
// prints `LISTENING <port>` when ready, then one JSON line per event:
//   {"event":"connected","identity":"cp01","protocol":"ocpp1.5"}
//   {"event":"call","identity":"cp01","method":"Heartbeat","params":{}}      (--verbose only)
//   {"event":"result","identity":"cp01","method":"Reset","result":{...}}
//   {"event":"error","identity":"cp01","method":"Reset","code":"...","message":"..."}
//   {"event":"disconnected","identity":"cp01"}
// Standard input: `call <identity> <Method> <json params>` makes the CS call that CP.
// Ends on `quit` or end of input.
'use strict';

const readline = require('node:readline');
const { RPCServer, createRPCError } = require('ocpp-rpc');

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const port = Number(args.find((a) => !a.startsWith('--')) || 0);

function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const idTagInfo = () => ({ status: 'Accepted' });

const ANSWERS = {
    BootNotification: () => ({ status: 'Accepted', currentTime: now(), heartbeatInterval: 300 }),
    Heartbeat: () => ({ currentTime: now() }),
    Authorize: () => ({ idTagInfo: idTagInfo() }),
    StartTransaction: () => ({ transactionId: 1, idTagInfo: idTagInfo() }),
    StopTransaction: () => ({ idTagInfo: idTagInfo() }),
    MeterValues: () => ({}),
    StatusNotification: () => ({}),
    FirmwareStatusNotification: () => ({}),
    DiagnosticsStatusNotification: () => ({}),
    DataTransfer: () => ({ status: 'Accepted', data: '' }),
};

const clients = new Map();

const server = new RPCServer({
    protocols: ['ocpp1.5', 'ocpp1.2'],
    strictMode: false,
    pingIntervalMs: 300000,
});

server.on('client', (client) => {
    clients.set(client.identity, client);
    emit({ event: 'connected', identity: client.identity, protocol: client.protocol });
    client.handle(({ method, params }) => {
        if (verbose) emit({ event: 'call', identity: client.identity, method, params });
        const answer = ANSWERS[method];
        if (!answer) throw createRPCError('NotImplemented');
        return answer();
    });
    client.on('close', () => {
        if (clients.get(client.identity) === client) clients.delete(client.identity);
        emit({ event: 'disconnected', identity: client.identity });
    });
});

async function command(line) {
    const found = /^call\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line.trim());
    if (!found) {
        emit({ event: 'usage', line });
        return;
    }
    const [, identity, method, text] = found;
    const client = clients.get(identity);
    if (!client) {
        emit({ event: 'error', identity, method, code: 'NoSuchClient', message: identity });
        return;
    }
    try {
        const result = await client.call(method, text ? JSON.parse(text) : {});
        emit({ event: 'result', identity, method, result });
    } catch (err) {
        emit({ event: 'error', identity, method, code: err.rpcErrorCode || err.name, message: err.message });
    }
}

async function main() {
    const http = await server.listen(port, '127.0.0.1');
    emit({ event: 'listening', port: http.address().port });
    process.stdout.write(`LISTENING ${http.address().port}\n`);
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', (line) => {
        if (line.trim() === 'quit') rl.close();
        else if (line.trim()) command(line);
    });
    rl.on('close', async () => {
        await server.close({ awaitPending: false, force: true });
        process.exit(0);
    });
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
