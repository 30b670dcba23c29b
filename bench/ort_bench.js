#!/usr/bin/env node
// ort_bench.js - the anchor for `make bench`: times ONNX Runtime (npm onnxruntime-node, CPU
// provider) on one model at one batch size, the same way `tta bench` times tta.
//
//   node bench/ort_bench.js MODEL.onnx [--batch B] [--threads T] [--seconds S]
//                           [--shape [NAME=]D0,D1,...] [--flops] [--json]
//
// Dim 0 of every input is set to B, the other dims come from the model (a symbolic one needs
// --shape); inputs hold fixed pseudo-random data (uint8 0..255, floats in [0, 1)). After a
// warm-up (two runs and a tenth of S, at most 1 s) it runs for S seconds (default 3) and reports
// images/s at the median latency, the median / p90 / mean latency per batch and the peak RSS
// of the process (process.resourceUsage().maxRSS, which includes Node itself). --json prints
// the same keys as `tta bench --json`. Threads: T, else TTA_THREADS, else OMP_NUM_THREADS, else
// all cores, passed as intraOpNumThreads (inter-op 1, sequential execution). --flops counts the
// model's FLOPs per image (see countFlops); scripts/bench.sh uses it for GFLOP/s of both runtimes.
//
// onnxruntime-node is installed by scripts/bench.sh into bench/ort/ with
// `npm install --ignore-scripts` (the CPU binding and libonnxruntime.so ship in the package).
'use strict';

const os = require('os');
const path = require('path');

function usage(code) {
  const text =
    'usage: node bench/ort_bench.js MODEL.onnx [--batch B] [--threads T] [--seconds S]\n' +
    '                               [--shape [NAME=]D0,D1,...] [--flops] [--json]\n\n' +
    'Times ONNX Runtime (CPU provider) on MODEL at batch size B (default: the model\'s, else 1)\n' +
    'for S seconds (default 3) after a warm-up; prints images/s (at the median latency), latency\n' +
    'per batch (median, p90, mean) and peak RSS. Same options and JSON keys as `tta bench`.\n' +
    '--flops also counts FLOPs per image (Conv, ConvTranspose, Gemm, MatMul; a multiply-add is 2)\n' +
    'from one profiled run of the unoptimised graph, and adds flops_per_image and gflop_s.\n';
  (code ? process.stderr : process.stdout).write(text);
  process.exit(code);
}

function fail(msg, code = 1) {
  process.stderr.write(`ort_bench: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const o = { model: null, batch: 0, threads: 0, seconds: 3, json: false, flops: false, shapes: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) fail(`option '${a}' needs a value`, 2);
      return argv[++i];
    };
    if (a === '--help' || a === '-h') usage(0);
    else if (a === '--json') o.json = true;
    else if (a === '--flops') o.flops = true;
    else if (a === '--batch') {
      const v = val();
      o.batch = Number(v);
      if (!/^\d+$/.test(v) || o.batch < 1) fail(`--batch wants a positive integer, not '${v}'`, 2);
    } else if (a === '--threads') {
      const v = val();
      o.threads = Number(v);
      if (!/^\d+$/.test(v)) fail(`--threads wants an integer >= 0, not '${v}'`, 2);
    } else if (a === '--seconds') {
      const v = val();
      o.seconds = Number(v);
      if (!(o.seconds > 0)) fail(`--seconds wants a positive number, not '${v}'`, 2);
    } else if (a === '--shape') o.shapes.push(val());
    else if (a.startsWith('-')) fail(`unknown option '${a}'`, 2);
    else if (!o.model) o.model = a;
    else fail(`unexpected argument '${a}'`, 2);
  }
  if (!o.model) usage(2);
  return o;
}

function resolvedThreads(t) {
  if (t > 0) return t;
  for (const k of ['TTA_THREADS', 'OMP_NUM_THREADS']) {
    const v = parseInt(process.env[k] || '', 10);
    if (v > 0) return v;
  }
  return os.cpus().length || 1;
}

function loadOrt() {
  const candidates = [path.join(__dirname, 'ort', 'node_modules', 'onnxruntime-node'), 'onnxruntime-node'];
  for (const c of candidates) {
    try {
      return require(c);
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') fail(`cannot load ${c}: ${e.message.split('\n')[0]}`);
    }
  }
  fail('onnxruntime-node is not installed: run scripts/bench.sh, or npm install --ignore-scripts in bench/ort');
}

// A fixed 32-bit xorshift: the same data every run.
function fill(type, n, seed) {
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
  if (type === 'float32' || type === 'float64') {
    const a = type === 'float32' ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = next() / 4294967296;
    return a;
  }
  if (type === 'uint8') {
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) a[i] = next() >>> 24;
    return a;
  }
  return null;
}

function quantile(sorted, q) {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

// FLOPs per image of the model's Conv, ConvTranspose, Gemm and MatMul nodes (a multiply-add
// counts 2; bias and activations are not counted), from the shapes ONNX Runtime's profiler
// reports for one run of the unoptimised graph (so the nodes and weights are the model's own, not
// ORT's fused or channel-padded ones). A ConvTranspose whose weight shape the profiler leaves out
// is not counted. feeds hold batch `batch`.
async function countFlops(ort, model, feeds, batch) {
  const fs = require('fs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-flops-'));
  try {
    const s = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      graphOptimizationLevel: 'disabled',
      enableProfiling: true,
      profileFilePrefix: path.join(dir, 'p'),
    });
    await s.run(feeds);
    s.endProfiling();
    await s.release();
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) return NaN;
    const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    const shape = (x) => (x ? Object.values(x)[0] : null);
    const numel = (d) => d.reduce((a, b) => a * b, 1);
    let flops = 0;
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args) continue;
      const ins = (e.args.input_type_shape || []).map(shape);
      const outs = (e.args.output_type_shape || []).map(shape);
      const x = ins[0], w = ins[1], y = outs[0];
      if (!x || !y) continue;
      switch (e.args.op_name) {
        case 'Conv': // W [M, C/g, k...]: each output element is C/g * prod(k) multiply-adds
          if (w && w.length === x.length) flops += 2 * numel(y) * numel(w.slice(1));
          break;
        case 'ConvTranspose': // W [C, M/g, k...]: each input element feeds M/g * prod(k) outputs
          if (w && w.length === x.length) flops += 2 * numel(x) * numel(w.slice(1));
          break;
        case 'Gemm': // Y [M, N], K = numel(A) / M
          flops += 2 * numel(y) * (numel(x) / y[0]);
          break;
        case 'MatMul':
          flops += 2 * numel(y) * x[x.length - 1];
          break;
      }
    }
    return flops / batch;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const maxRssMb = () => process.resourceUsage().maxRSS / 1024; // kilobytes

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const threads = resolvedThreads(o.threads);
  let session;
  try {
    session = await ort.InferenceSession.create(o.model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    fail(`${o.model}: ${String(e.message || e).split('\n')[0]}`);
  }
  const loadRss = maxRssMb();

  const given = {};
  for (const spec of o.shapes) {
    const eq = spec.indexOf('=');
    const name = eq >= 0 ? spec.slice(0, eq) : session.inputNames[0];
    const dims = (eq >= 0 ? spec.slice(eq + 1) : spec).split(/[,x]/).map(Number);
    if (!dims.length || dims.some((d) => !Number.isInteger(d) || d < 1))
      fail(`--shape '${spec}': expected [NAME=]D0,D1,... with positive dims`, 2);
    if (!session.inputNames.includes(name)) fail(`${o.model}: --shape ${spec}: the model has no input named '${name}'`);
    given[name] = dims;
  }

  const meta = session.inputMetadata || [];
  if (!o.batch) { // default: the model's fixed batch, else 1
    const m0 = meta[0];
    o.batch = m0 && m0.shape && typeof m0.shape[0] === 'number' && m0.shape[0] > 0 ? m0.shape[0] : 1;
  }
  const feeds = {};
  session.inputNames.forEach((name, k) => {
    const m = meta.find ? meta.find((x) => x.name === name) : meta[k];
    if (!m || !m.shape) fail(`${o.model}: this onnxruntime-node has no input metadata; use a version >= 1.22`);
    let dims;
    if (given[name]) {
      dims = given[name].slice();
      if (dims.length !== m.shape.length)
        fail(`${o.model}: --shape for input '${name}' has ${dims.length} dims, the model says ${m.shape.length}`);
    } else {
      if (m.shape.length < 1) fail(`${o.model}: input '${name}' has no batch dim; give its shape with --shape`);
      dims = m.shape.map((d, i) => {
        if (i === 0) return o.batch;
        if (typeof d !== 'number' || d < 0)
          fail(`${o.model}: input '${name}' dim ${i} (${d}) is symbolic; give its shape with --shape ${name}=D0,D1,...`);
        return d;
      });
    }
    if (typeof m.shape[0] === 'number' && m.shape[0] >= 0 && m.shape[0] !== o.batch)
      fail(`${o.model}: input '${name}' has a fixed batch of ${m.shape[0]}; --batch ${o.batch} is not possible`);
    dims[0] = o.batch;
    const n = dims.reduce((a, b) => a * b, 1);
    const data = fill(m.type, n, k + 1);
    if (!data) fail(`${o.model}: input '${name}' is ${m.type}; bench fills only float32, float64 and uint8 inputs`);
    feeds[name] = new ort.Tensor(m.type, data, dims);
  });
  let flops = NaN;
  if (o.flops) {
    try {
      flops = await countFlops(ort, o.model, feeds, o.batch);
    } catch (e) {
      fail(`${o.model}: counting FLOPs: ${String(e.message || e).split('\n')[0]}`);
    }
  }

  const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
  try {
    const warm = Math.min(o.seconds / 10, 1) * 1e3;
    const t0 = now();
    for (let w = 0; w < 2 || now() - t0 < warm; w++) await session.run(feeds);
    const lat = [];
    let total = 0;
    const start = now();
    while (lat.length < 3 || now() - start < o.seconds * 1e3) {
      const a = now();
      await session.run(feeds);
      const b = now();
      lat.push(b - a);
      total += b - a;
    }
    lat.sort((x, y) => x - y);
    const med = quantile(lat, 0.5), p90 = quantile(lat, 0.9), mean = total / lat.length;
    const r = {
      runtime: 'onnxruntime-node ' + (ort.env && ort.env.versions ? ort.env.versions.common || '' : ''),
      model: o.model,
      batch: o.batch,
      threads,
      seconds: +(total / 1e3).toFixed(3),
      repeats: lat.length,
      images_per_s: +((o.batch * 1e3) / med).toFixed(3),
      latency_ms: +med.toFixed(4),
      latency_p90_ms: +p90.toFixed(4),
      latency_mean_ms: +mean.toFixed(4),
      peak_rss_mb: +maxRssMb().toFixed(1),
      load_rss_mb: +loadRss.toFixed(1),
    };
    if (o.flops) {
      r.flops_per_image = flops;
      r.gflop_s = +((flops * r.images_per_s) / 1e9).toFixed(3);
    }
    if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
    else {
      process.stdout.write(
        `model:        ${r.model}\nbatch:        ${r.batch}\nthreads:      ${r.threads}\n` +
          `repeats:      ${r.repeats} in ${r.seconds.toFixed(2)} s\n` +
          `images/s:     ${r.images_per_s.toFixed(1)} (at the median latency)\n` +
          `latency:      ${med.toFixed(3)} ms per batch (median), ${p90.toFixed(3)} ms p90, ${mean.toFixed(3)} ms mean\n` +
          `peak RSS:     ${r.peak_rss_mb.toFixed(1)} MB (${r.load_rss_mb.toFixed(1)} MB after loading the model)\n` +
          (o.flops ? `FLOPs:        ${(flops / 1e6).toFixed(2)} M per image, ${r.gflop_s.toFixed(2)} GFLOP/s\n` : '')
      );
    }
  } catch (e) {
    fail(`${o.model}: ${String(e.message || e).split('\n')[0]}`);
  }
}

main();
