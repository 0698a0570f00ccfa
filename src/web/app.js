// SPDX-License-Identifier: MIT
// The status page: reads /api/status and /api/runs every 2 s and redraws. Every value
// from the server is put in with textContent or an attribute, never parsed as HTML: disk
// labels, reasons and file names come from disks and are untrusted.
'use strict';

const REFRESH_MS = 2000;
const RUNS_LIMIT = 200;

// el('td', {className: 'num'}, 'text', childNode, ...): strings become text nodes.
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key.startsWith('data-') || key === 'max' || key === 'value' || key === 'href') node.setAttribute(key, String(value));
    else node[key] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function formatBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit + 1 < units.length) { value /= 1024; unit++; }
  if (unit === 0) return value + ' B';
  return (value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)) + ' ' + units[unit];
}

function formatDuration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return seconds + ' s';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + ' min';
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return hours + ' h ' + String(minutes % 60).padStart(2, '0') + ' min';
  return Math.floor(hours / 24) + ' d ' + (hours % 24) + ' h';
}

function formatTime(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'short'});
}

function percentOf(done, total) {
  return total > 0 ? Math.min(100, Math.floor(done * 100 / total)) : 0;
}

function outcomeCell(outcome) {
  return el('td', {className: 'outcome-' + String(outcome)}, String(outcome));
}

function diskName(label, uuid) {
  return label ? label : uuid;
}

function renderJob(job) {
  const running = job.phase === 'copying' || job.phase === 'verifying';
  const figures = [];
  if (job.bytes_total > 0) {
    figures.push(formatBytes(job.bytes_done) + ' of ' + formatBytes(job.bytes_total) +
                 ' (' + percentOf(job.bytes_done, job.bytes_total) + '%)');
  }
  if (running && job.rate_bytes_per_second > 0) figures.push(formatBytes(job.rate_bytes_per_second) + '/s');
  if (running && typeof job.eta_seconds === 'number') figures.push(formatDuration(job.eta_seconds) + ' left');
  if (job.detail) figures.push(job.detail);
  const progress = el('progress', {
    max: Math.max(1, job.bytes_total),
    value: Math.min(job.bytes_done, Math.max(1, job.bytes_total)),
    'data-uuid': job.uuid,
    'data-bytes-done': job.bytes_done,
  });
  if (job.bytes_total <= 0) progress.removeAttribute('value');  // indeterminate while estimating
  return el('div', {className: 'job'},
    el('div', {className: 'job-head'},
      el('span', {className: 'job-name'}, diskName(job.label, job.uuid)),
      el('span', {className: 'muted'}, job.devnode + ' · pid ' + job.pid + ' · since ' + formatTime(job.started_at))),
    el('div', {className: 'phase'}, String(job.phase).replace(/_/g, ' ')),
    progress,
    el('div', {className: 'figures'}, figures.join(' · ')));
}

function renderJobs(jobs) {
  const running = jobs.filter((j) => j.phase !== 'queued');
  const box = document.getElementById('jobs');
  box.replaceChildren(...(running.length ? running.map(renderJob) : [el('p', {className: 'muted'}, 'No copy is running.')]));
  const queued = jobs.filter((j) => j.phase === 'queued');
  document.getElementById('queue').replaceChildren(...(queued.length
    ? queued.map((j) => el('li', {}, diskName(j.label, j.uuid) + (j.detail ? ': ' + j.detail : '')))
    : [el('li', {className: 'muted'}, 'Nothing is waiting.')]));
}

function renderLeases(leases, now) {
  document.getElementById('leases').replaceChildren(...(leases.length
    ? leases.map((l) => el('li', {}, 'Job ' + l.job + ' from ' + l.host + ', since ' + formatTime(l.created_at) +
                                     ', expires in ' + formatDuration(l.expires_at - now)))
    : [el('li', {className: 'muted'}, 'No Veeam job holds the repository.')]));
}

function labelOf(disk, jobs) {
  const job = jobs.find((j) => j.uuid.toLowerCase() === disk.uuid.toLowerCase());
  return (job && job.label) || disk.label;
}

// A disk with restore points gets a row of its own under it listing them, as the server
// last saw them (the disk itself is offsite); a mirror disk has none.
function renderPoints(disk) {
  const seen = disk.restore_points;
  const items = seen.points.slice().reverse().map((p) => el('li', {'data-point': p.name},
    el('span', {className: 'point-name'}, p.name),
    ' · ' + formatTime(p.started_at) + ' · ' + formatBytes(p.bytes) + ' in ' + p.files + (p.files === 1 ? ' file' : ' files') +
    (p.verified ? ' · verified' : ' · not verified')));
  return el('tr', {className: 'points', 'data-uuid': disk.uuid},
    el('td', {colSpan: 5},
      el('span', {className: 'muted'}, 'Restore points (newest first), as of ' + formatTime(seen.seen_at) + ':'),
      el('ul', {className: 'points'}, ...items)));
}

function renderDisks(status) {
  const rows = status.disks.flatMap((disk) => {
    const good = disk.last_good_copy;
    const run = disk.last_run;
    const label = el('td', {}, labelOf(disk, status.jobs) || '—');
    if (disk.stale) label.append(el('span', {className: 'badge', title: 'no good copy for ' + disk.stale_after_days + ' days'}, 'STALE'));
    const lastRun = run ? run.action + ' ' + run.outcome + (run.reason ? ': ' + run.reason : '') : 'never';
    const row = el('tr', {className: disk.stale ? 'stale' : '', 'data-uuid': disk.uuid},
      label,
      el('td', {className: 'uuid'}, disk.uuid),
      el('td', {}, good ? formatTime(good.finished_at) : 'none recorded'),
      el('td', {}, good ? formatDuration(good.age_seconds) + ' ago' : '—'),
      el('td', {className: 'outcome-' + (run ? run.outcome : 'none')}, lastRun));
    return disk.restore_points ? [row, renderPoints(disk)] : [row];
  });
  document.querySelector('#disks tbody').replaceChildren(...(rows.length
    ? rows : [el('tr', {}, el('td', {colSpan: 5, className: 'muted'}, 'No disk is whitelisted.'))]));
}

function renderRuns(runs) {
  const rows = runs.slice(0, 50).map((r) => el('tr', {title: r.reason},
    el('td', {}, formatTime(r.started)),
    el('td', {}, diskName(r.label, r.uuid)),
    el('td', {}, r.action),
    outcomeCell(r.outcome),
    el('td', {className: 'num'}, formatBytes(r.bytes)),
    el('td', {className: 'num'}, String(r.files)),
    el('td', {className: 'num'}, r.verified_bytes === null ? '—' : formatBytes(r.verified_bytes)),
    el('td', {className: 'num'}, formatDuration(r.finished - r.started)),
    el('td', {className: 'num'}, String(r.warnings)),
    el('td', {}, el('a', {href: '/runs/' + encodeURIComponent(r.id) + '/log'}, 'log'))));
  document.querySelector('#runs tbody').replaceChildren(...(rows.length
    ? rows : [el('tr', {}, el('td', {colSpan: 10, className: 'muted'}, 'No run has been recorded yet.'))]));
}

async function getJson(path) {
  const response = await fetch(path, {cache: 'no-store'});
  if (!response.ok) throw new Error(path + ': ' + response.status + ' ' + (await response.text()).trim());
  return response.json();
}

async function refresh() {
  const problem = document.getElementById('problem');
  try {
    const [status, runsDoc] = await Promise.all([getJson('/api/status'), getJson('/api/runs?limit=' + RUNS_LIMIT)]);
    renderJobs(status.jobs);
    renderLeases(status.veeam_leases, status.now);
    renderDisks(status);
    renderRuns(runsDoc.runs);
    document.getElementById('updated').textContent = 'Updated ' + new Date(status.now * 1000).toLocaleTimeString();
    problem.hidden = true;
  } catch (e) {
    problem.textContent = 'Cannot read the status (' + e.message + '); trying again.';
    problem.hidden = false;
  }
  setTimeout(refresh, REFRESH_MS);
}

refresh();
