#!/usr/bin/env node
// A Charge Point built on ocpp-rpc (an independent OCPP-J implementation), for interop tests.
//
//   node cp.js <ws url> <identity> [protocol] [--password TEXT] [--ca FILE] [--cert FILE --key FILE]
//
// (protocol: ocpp1.5 by default). --password: HTTP Basic auth (UTF-8); --ca: the CA that
// signed a wss:// server's certificate; --cert/--key: a TLS client certificate.
// Connects to <url>/<identity>, sends BootNotification then Heartbeat, answers the CS's
// Reset / ClearCache / ChangeAvailability / UnlockConnector calls with Accepted, and prints
// one JSON line per event:
//   {"event":"connected","protocol":"ocpp1.5"}
//   {"event":"result","method":"BootNotification","result":{...}}
//   {"event":"error","method":"...","code":"...","message":"...","details":{...}}
//   {"event":"booted"}                                       (after BootNotification+Heartbeat)
//   {"event":"call","method":"Reset","params":{"type":"Soft"}}
// Standard input: `call <Method> <json params>` sends another CALL. Ends on `quit` or
// end of input.
'use strict';

const readline = require('node:readline');
const { RPCClient, createRPCError } = require('ocpp-rpc');

const argv = process.argv.slice(2);
const valued = new Set(['--password', '--ca', '--cert', '--key']);
const opts = {};
const positional = [];
for (let i = 0; i < argv.length; i++) {
    if (valued.has(argv[i])) opts[argv[i].slice(2)] = argv[++i];
    else positional.push(argv[i]);
}
const [url, identity, protocol = 'ocpp1.5'] = positional;
if (!url || !identity) {
    console.error('usage: node cp.js <ws url> <identity> [protocol]');
    process.exit(2);
}

function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

const ACCEPTED = new Set(['Reset', 'ClearCache', 'ChangeAvailability', 'UnlockConnector']);

const fs = require('node:fs');
const wsOpts = { minVersion: 'TLSv1.2' };
if (opts.ca) wsOpts.ca = fs.readFileSync(opts.ca);
if (opts.cert) wsOpts.cert = fs.readFileSync(opts.cert);
if (opts.key) wsOpts.key = fs.readFileSync(opts.key);

const client = new RPCClient({
    endpoint: url,
    identity,
    protocols: [protocol],
    strictMode: false,
    reconnect: false,
    callTimeoutMs: 10000,
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    wsOpts,
});

client.handle(({ method, params }) => {
    emit({ event: 'call', method, params });
    if (ACCEPTED.has(method)) return { status: 'Accepted' };
    throw createRPCError('NotImplemented');
});
client.on('close', ({ code, reason }) => emit({ event: 'closed', code, reason: String(reason || '') }));

async function call(method, params) {
    try {
        const result = await client.call(method, params);
        emit({ event: 'result', method, result });
        return result;
    } catch (err) {
        emit({
            event: 'error', method, code: err.rpcErrorCode || err.name, message: err.message,
            details: err.details,
        });
        return null;
    }
}

async function main() {
    await client.connect();
    emit({ event: 'connected', protocol: client.protocol });
    await call('BootNotification', { chargePointVendor: 'ocpp-rpc', chargePointModel: 'interop' });
    await call('Heartbeat', {});
    emit({ event: 'booted' });
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', async (line) => {
        const text = line.trim();
        if (text === 'quit') return rl.close();
        const found = /^call\s+(\S+)\s*(.*)$/.exec(text);
        if (found) await call(found[1], found[2] ? JSON.parse(found[2]) : {});
    });
    rl.on('close', async () => {
        await client.close({ force: true });
        process.exit(0);
    });
}

main().catch((err) => {
    emit({ event: 'error', method: 'connect', code: err.name, message: err.message });
    process.exit(1);
});
