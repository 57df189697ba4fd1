#!/usr/bin/env node
// A Central System built on ocpp-rpc (an independent OCPP-J implementation), for interop
// tests and as a benchmark baseline.
//
//   node cs.js [port] [--verbose] [--tls-cert FILE --tls-key FILE] [--password ID:PASSWORD]
//              [--password-hex ID:HEX]
//
// Listens on 127.0.0.1:<port> (0 or absent: a free port) for any path and identity,
// subprotocols ocpp1.6, ocpp1.5 and ocpp1.2, no schema validation (ocpp-rpc has no 1.2/1.5
// schemas), prints `LISTENING <port>` when ready, then one JSON line per event.
// --tls-cert/--tls-key: wss:// (TLS 1.2 or newer). --password ID:PASSWORD (repeatable):
// HTTP Basic auth required, charge point ID's password compared as UTF-8 bytes (--password-hex:
// as the bytes HEX stands for, OCPP 1.6's AuthorizationKey); a refused one
// is {"event":"rejected",...} and HTTP 401. The connected event shows the password received as
// hexadecimal (ocpp-rpc hands it over as bytes).
//   {"event":"connected","identity":"cp01","protocol":"ocpp1.5","password":"70617373"}
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
const valued = new Set(['--tls-cert', '--tls-key', '--password', '--password-hex']);
const option = (name) => {
    const found = [];
    args.forEach((a, i) => { if (a === name) found.push(args[i + 1]); });
    return found;
};
const port = Number(args.find((a, i) => !a.startsWith('--') && !valued.has(args[i - 1])) || 0);
const [tlsCert] = option('--tls-cert');
const [tlsKey] = option('--tls-key');
const passwords = new Map([
    ...option('--password').map((p) => {
        const at = p.indexOf(':');
        return [p.slice(0, at), Buffer.from(p.slice(at + 1), 'utf8')];
    }),
    ...option('--password-hex').map((p) => {
        const at = p.indexOf(':');
        return [p.slice(0, at), Buffer.from(p.slice(at + 1), 'hex')];
    }),
]);

function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const idTagInfo = () => ({ status: 'Accepted' });

const ANSWERS = {
    // 1.6 names the interval `interval`, 1.2 and 1.5 `heartbeatInterval`
    BootNotification: (protocol) => ({
        status: 'Accepted', currentTime: now(),
        [protocol === 'ocpp1.6' ? 'interval' : 'heartbeatInterval']: 300,
    }),
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
    protocols: ['ocpp1.6', 'ocpp1.5', 'ocpp1.2'],
    strictMode: false,
    pingIntervalMs: 300000,
});

if (passwords.size) {
    server.auth((accept, reject, handshake) => {
        const wanted = passwords.get(handshake.identity);
        const given = handshake.password;
        if (!wanted || !given || !wanted.equals(given)) {
            emit({
                event: 'rejected', identity: handshake.identity,
                password: given ? given.toString('hex') : null,
            });
            reject(401, 'Unauthorized');
            return;
        }
        accept({ password: given.toString('hex') });
    });
}

server.on('client', (client) => {
    clients.set(client.identity, client);
    const password = client.session && client.session.password;
    emit({
        event: 'connected', identity: client.identity, protocol: client.protocol,
        ...(password ? { password } : {}),
    });
    client.handle(({ method, params }) => {
        if (verbose) emit({ event: 'call', identity: client.identity, method, params });
        const answer = ANSWERS[method];
        if (!answer) throw createRPCError('NotImplemented');
        return answer(client.protocol);
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

async function listen() {
    if (!tlsCert) return server.listen(port, '127.0.0.1');
    const https = require('node:https');
    const fs = require('node:fs');
    const tls = https.createServer({
        cert: fs.readFileSync(tlsCert),
        key: fs.readFileSync(tlsKey),
        minVersion: 'TLSv1.2',
    });
    tls.on('upgrade', server.handleUpgrade);
    await new Promise((resolve) => tls.listen(port, '127.0.0.1', resolve));
    return tls;
}

async function main() {
    const http = await listen();
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
