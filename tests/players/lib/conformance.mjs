// Every manifest a player run received through the HLS and MPD rules
// (`splicepoint validate --replay`: each alone, and each live answer against the
// previous answer of its URL), and every MPD through the official schema with
// xmllint when the schema is beside the corpus (CORPUS/../schema/dash).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const oneLine = (x, n) => { const t = String(x).replace(/\s+/g, ' ').trim(); return t.length > n ? `${t.slice(0, n)}...` : t; };

function runTool(cmd, argv, opts) {
  return new Promise((resolve) => {
    execFile(cmd, argv, { timeout: 120_000, maxBuffer: 64 << 20, ...opts }, (err, stdout, stderr) => resolve({ err, stdout, stderr }));
  });
}

/// {ok, manifests, problems, schemaNote} for the manifests saved in `dir`
/// (NNNN.m3u8 / NNNN.mpd and index.json). `bin`: the splicepoint binary (relative
/// to `repo`); `corpus`: the shared corpus directory, if any.
export async function checkConformance(dir, { bin, repo, corpus }) {
  const exe = path.isAbsolute(bin) ? bin : path.resolve(repo, bin);
  const problems = [];
  const { err, stdout } = await runTool(exe, ['validate', '--replay', '--json', dir]);
  let manifests = 0;
  try {
    const r = JSON.parse(stdout);
    manifests = r.manifests.length;
    for (const m of r.manifests) {
      if (m.error) problems.push(`${m.source}: ${m.error}`);
      for (const p of m.problems || []) problems.push(`${m.source}: ${p.place} [${p.rule}] ${p.message}`);
    }
  } catch {
    problems.push(`splicepoint validate --replay failed: ${oneLine(String(err), 200)}`);
  }
  const schema = corpus ? path.resolve(corpus, '..', 'schema', 'dash') : null;
  const mpds = fs.readdirSync(dir).filter((f) => f.endsWith('.mpd')).sort().map((f) => path.join(dir, f));
  let schemaNote = 'schema not checked (no SPLICEPOINT_CORPUS)';
  if (!mpds.length) {
    schemaNote = 'no MPD';
  } else if (schema && fs.existsSync(path.join(schema, 'DASH-MPD.xsd'))) {
    const x = await runTool('xmllint', ['--nonet', '--noout', '--schema', path.join(schema, 'DASH-MPD.xsd'), ...mpds],
      { env: { ...process.env, XML_CATALOG_FILES: path.join(schema, 'catalog.xml') } });
    if (x.err && x.err.code === 'ENOENT') {
      problems.push('xmllint is not installed (scripts/install-deps installs libxml2-utils)');
    } else {
      for (const f of mpds.filter((m) => !x.stderr.includes(`${m} validates`))) {
        const why = x.stderr.split('\n').filter((l) => l.startsWith(`${f}:`)).slice(0, 2).join(' | ');
        problems.push(`${path.basename(f)} is not schema-valid: ${oneLine(why, 300)}`);
      }
      schemaNote = `${mpds.length} MPDs schema-valid`;
    }
  }
  return { ok: problems.length === 0, manifests, problems, schemaNote };
}
