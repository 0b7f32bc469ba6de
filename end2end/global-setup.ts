// Starts the Handoff server — the self-contained release binary (`handoff-server bundle`), copied
// alone into an empty directory and started there, so every page, bundle and style the suite
// loads comes out of the binary itself — and a "customer website" on another origin that embeds
// the widget with one script tag. Exposes BASE_URL, CUSTOMER_URL and HANDOFF_LONE_BIN (the copy)
// to the tests and returns the teardown.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export default async function globalSetup() {
  const root = path.resolve(__dirname, '..');
  const bundled = process.env.HANDOFF_SERVER_BIN || path.join(root, 'target/release/handoff');
  if (!fs.existsSync(bundled)) {
    throw new Error(`${bundled} is missing: run \`cargo leptos build --release\`, scripts/build-widget.sh and ` +
      '`target/release/handoff-server bundle target/release/handoff` first (scripts/test.sh does)');
  }
  const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-bin-'));
  const bin = path.join(binDir, 'handoff');
  fs.copyFileSync(bundled, bin);
  fs.chmodSync(bin, 0o755);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-e2e-'));
  const smtp = await mailServer(path.join(dataDir, 'smtp'));
  fs.mkdirSync(path.join(__dirname, 'test-results'), { recursive: true });
  const logPath = path.join(__dirname, 'test-results', 'server.log');
  const log = fs.createWriteStream(logPath);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HANDOFF_DATA_DIR: dataDir,
    // The suite signs in as the demo users (the server's own default seeds nothing).
    HANDOFF_SEED_DEMO: 'true',
    HANDOFF_DEMO_PASSWORD: 'handoff-demo',
    // Every browser test opens chats from 127.0.0.1: no per-address limit on new chats here.
    HANDOFF_NEW_CHATS_PER_IP_PER_HOUR: '0',
    // The stand-in language model below listens on 127.0.0.1, an internal address the server
    // refuses unless the operator allows it.
    HANDOFF_OUTBOUND_ALLOW: '127.0.0.1',
    // Mail goes to the test mail server below.
    HANDOFF_SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as net.AddressInfo).port}`,
    HANDOFF_OUTBOX_POLL_MS: '200',
    LEPTOS_SITE_ADDR: '127.0.0.1:0',
    LEPTOS_ENV: 'PROD',
    RUST_LOG: process.env.RUST_LOG || 'info,sqlx=warn',
  };
  delete env.DATABASE_URL;
  // Nothing of the build may help the lone binary: no site root, no widget directory, no config.
  for (const k of ['LEPTOS_SITE_ROOT', 'LEPTOS_SITE_PKG_DIR', 'LEPTOS_OUTPUT_NAME', 'LEPTOS_HASH_FILES', 'HANDOFF_WIDGET_DIR', 'HANDOFF_CONFIG']) delete env[k];
  const server = spawn(bin, [], { cwd: binDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stderr.pipe(log);

  const baseUrl = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s; see ${logPath}`)), 60_000);
    server.stdout.on('data', (chunk: Buffer) => {
      log.write(chunk);
      buffered += chunk.toString();
      const m = buffered.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}; see ${logPath}`)); });
  });
  server.removeAllListeners('exit');
  server.stdout.on('data', (chunk: Buffer) => log.write(chunk));

  // Two pages (the home page and /pricing), each embedding the widget.
  const customer = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const title = { '/': 'Acme Store', '/pricing': 'Pricing · Acme Store' }[path];
    if (!title) { res.writeHead(404); res.end('not found'); return; }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,"></head>
<body><h1>${title}</h1><p>Welcome to our shop.</p>
<script src="${baseUrl}/widget.js" data-widget="demo" async></script></body></html>`);
  });
  await new Promise<void>((resolve) => customer.listen(0, '127.0.0.1', resolve));
  const port = (customer.address() as { port: number }).port;

  // A language model stand-in speaking the OpenAI chat-completions protocol: it streams a fixed
  // answer word by word, slowly enough to watch it grow in the widget.
  const llm = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') { res.writeHead(404); res.end(); return; }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const words = 'Our gift wrapping costs 3 EUR per parcel and is available for every order.'.split(/(?<= )/);
      let i = 0;
      const tick = setInterval(() => {
        if (i < words.length) {
          res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: words[i++] } }] })}\n\n`);
        } else {
          clearInterval(tick);
          res.end('data: [DONE]\n\n');
        }
      }, 250);
      res.on('close', () => clearInterval(tick));
    });
  });
  await new Promise<void>((resolve) => llm.listen(0, '127.0.0.1', resolve));

  process.env.BASE_URL = baseUrl;
  process.env.CUSTOMER_URL = `http://127.0.0.1:${port}`;
  process.env.SMTP_DIR = smtp.dir;
  process.env.HANDOFF_LONE_BIN = bin;
  process.env.LLM_URL = `http://127.0.0.1:${(llm.address() as { port: number }).port}/v1`;

  return async () => {
    customer.close();
    llm.close();
    smtp.server.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => { const t = setTimeout(() => { server.kill('SIGKILL'); resolve(null); }, 5000); server.on('exit', () => { clearTimeout(t); resolve(null); }); });
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(binDir, { recursive: true, force: true });
    fs.rmSync(`${dataDir}.key`, { force: true }); // the server's secret key, beside its data dir
    // A panic on the server (e.g. while streaming a page) can leave pages looking right but dead:
    // fail the run whatever the scenarios said.
    const log = fs.readFileSync(logPath, 'utf8');
    if (log.includes('panicked at')) {
      throw new Error(`the server panicked during the browser tests; see ${logPath}`);
    }
  };
}

// A mail server stand-in: speaks plain SMTP (greeting, EHLO/HELO, MAIL, RCPT, DATA with
// dot-unstuffing, RSET, NOOP, QUIT), accepts every message and keeps each as one `.eml` file in
// `dir` for the tests to read (see `mails` in tests/support.ts).
async function mailServer(dir: string) {
  fs.mkdirSync(dir, { recursive: true });
  let count = 0;
  const server = net.createServer((socket) => {
    let buffer = '';
    let message: string[] | null = null;
    socket.on('error', () => {});
    socket.write('220 handoff-e2e ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let end;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (message) {
          if (line === '.') {
            fs.writeFileSync(path.join(dir, `${String(++count).padStart(5, '0')}.eml`), message.join('\r\n'));
            message = null;
            socket.write('250 accepted\r\n');
          } else {
            message.push(line.startsWith('.') ? line.slice(1) : line);
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-handoff-e2e\r\n250 8BITMIME\r\n');
        else if (verb === 'DATA') { message = []; socket.write('354 end with <CRLF>.<CRLF>\r\n'); }
        else if (verb === 'QUIT') { socket.write('221 bye\r\n'); socket.end(); }
        else socket.write('250 OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, dir };
}
