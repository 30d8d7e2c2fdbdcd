#!/usr/bin/env node
// Times Next.js's own route matcher on the tables nextr's routing bench exports.
//
// usage: node match.js EXPORT.json [--ms-per-case N]
//
// EXPORT.json comes from `NEXTR_ROUTING_EXPORT=EXPORT.json cargo bench -p nextr --bench routing`:
// the route files of each table, nextr's route order, and every request target with nextr's
// answer. This script loads the compiled router utilities that next@16.4.6 ships
// (shared/lib/router/utils: sorted-routes, route-regex, route-matcher, is-dynamic), builds the
// table the way `next start` does (getSortedRoutes over the pages, one getRouteRegex matcher per
// dynamic route, a set of all page strings for the filesystem check) and resolves each target
// the same way: `\`/`//` and trailing-slash redirects, exact page lookup, then the first
// dynamic regex in sorted order, with params decoded by getRouteMatcher (DecodeError → 400).
//
// Two timings per table: "match" (pathname split from the raw target, then the steps above) and
// "full" (the pathname from WHATWG URL parsing as Next's parseReqUrl does, plus req.query built
// from URLSearchParams and merged with the params, i.e. the work nextr's resolve does).
// It prints one JSON line per table and mode, and cross-checks status and route with nextr.
'use strict';

const fs = require('fs');
const path = require('path');

const utils = path.join(__dirname, 'node_modules/next/dist/shared/lib/router/utils');
const { getSortedRoutes } = require(path.join(utils, 'sorted-routes.js'));
const { getRouteRegex } = require(path.join(utils, 'route-regex.js'));
const { getRouteMatcher } = require(path.join(utils, 'route-matcher.js'));
const { isDynamicRoute } = require(path.join(utils, 'is-dynamic.js'));
const nextVersion = require(path.join(__dirname, 'node_modules/next/package.json')).version;

function pageForFile(file) {
  let stem = file.replace(/\.rs$/, '');
  if (stem.endsWith('/index')) stem = stem.slice(0, -'/index'.length);
  return '/' + stem;
}

// nextr's file rules: `.rs` files under api/, nothing whose name starts with `_` or `.`.
function isRoute(file) {
  return file.endsWith('.rs') && !file.split('/').some((s) => s.startsWith('_') || s.startsWith('.'));
}

function build(files) {
  const pages = files.filter(isRoute).map(pageForFile);
  const sorted = getSortedRoutes(pages);
  const dynamic = sorted
    .filter((p) => isDynamicRoute(p))
    .map((page) => ({ page, match: getRouteMatcher(getRouteRegex(page)) }));
  return { sorted, pages: new Set(pages), dynamic, literal: new Map(dynamic.map((d) => [d.page, d])) };
}

function queryObject(search) {
  const query = {};
  for (const [k, v] of new URLSearchParams(search)) {
    const prev = query[k];
    if (prev === undefined) query[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else query[k] = [prev, v];
  }
  return query;
}

// One resolution. Returns [status, page, query] (query only in full mode).
function resolve(table, target, full) {
  const qi = target.indexOf('?');
  let pathname = qi < 0 ? target : target.slice(0, qi);
  if (pathname.includes('\\') || pathname.includes('//')) return [308];
  let search = qi < 0 ? '' : target.slice(qi);
  if (full) {
    const url = new URL(target, 'http://n');
    pathname = url.pathname;
    search = url.search;
  }
  if (pathname.length > 1 && pathname.endsWith('/')) return [308];
  let page = null;
  let params;
  try {
    if (table.pages.has(pathname)) {
      page = pathname;
      const d = table.literal.get(pathname);
      params = d ? d.match(pathname) : {};
    } else {
      for (const d of table.dynamic) {
        const m = d.match(pathname);
        if (m) {
          page = d.page;
          params = m;
          break;
        }
      }
    }
  } catch (e) {
    return [400];
  }
  if (page === null) return [404];
  if (!full) return [200, page];
  return [200, page, { ...queryObject(search), ...params }];
}

function timeRun(tables, full, msBudget) {
  // Warm up (JIT), then repeat whole passes until the budget is spent; report the median pass.
  let sink = 0;
  const pass = () => {
    const t0 = process.hrtime.bigint();
    for (const { table, targets } of tables) {
      for (const t of targets) sink += resolve(table, t, full)[0];
    }
    return Number(process.hrtime.bigint() - t0);
  };
  const deadline = Date.now() + msBudget;
  for (let i = 0; i < 200; i++) pass();
  const samples = [];
  while (Date.now() < deadline || samples.length < 30) samples.push(pass());
  samples.sort((a, b) => a - b);
  const n = tables.reduce((s, t) => s + t.targets.length, 0);
  return { nsPerRequest: samples[samples.length >> 1] / n, requests: n, passes: samples.length, sink };
}

function timeBuild(files, msBudget) {
  const deadline = Date.now() + msBudget;
  const samples = [];
  for (let i = 0; i < 5; i++) build(files);
  while (Date.now() < deadline || samples.length < 10) {
    const t0 = process.hrtime.bigint();
    build(files);
    samples.push(Number(process.hrtime.bigint() - t0));
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

function main() {
  const args = process.argv.slice(2);
  const exportFile = args[0];
  if (!exportFile) {
    console.error('usage: node match.js EXPORT.json [--ms-per-case N]');
    process.exit(2);
  }
  const msIdx = args.indexOf('--ms-per-case');
  const ms = msIdx >= 0 ? Number(args[msIdx + 1]) : 2000;
  const data = JSON.parse(fs.readFileSync(exportFile, 'utf8'));
  for (const entry of data.tables) {
    const trees = entry.trees || [entry];
    const tables = trees.map((t) => ({
      name: t.name,
      table: build(t.files),
      order: t.order,
      requests: t.requests,
      targets: t.requests.map((r) => r.path),
    }));
    // Cross-check with nextr: the same route order and the same status/route per request.
    const mismatches = [];
    for (const t of tables) {
      if (JSON.stringify(t.table.sorted) !== JSON.stringify(t.order)) {
        mismatches.push(`${t.name}: route order differs`);
      }
      for (const r of t.requests) {
        const [status, page] = resolve(t.table, r.path, true);
        if (status !== r.status || (status === 200 && page !== r.route)) {
          mismatches.push(`${t.name} ${r.path}: next ${status} ${page || ''} / nextr ${r.status} ${r.route || ''}`);
        }
      }
    }
    for (const full of [false, true]) {
      const res = timeRun(tables, full, ms);
      console.log(
        JSON.stringify({
          table: entry.name,
          mode: full ? 'full' : 'match',
          next: nextVersion,
          ns_per_request: Number(res.nsPerRequest.toFixed(1)),
          requests: res.requests,
          passes: res.passes,
          mismatches: mismatches.length,
        }),
      );
    }
    if (!entry.trees) {
      console.log(
        JSON.stringify({ table: entry.name, mode: 'build', next: nextVersion, ns: timeBuild(entry.files, ms), routes: entry.files.length }),
      );
    }
    for (const m of mismatches.slice(0, 20)) console.error(`mismatch: ${m}`);
  }
}

main();
