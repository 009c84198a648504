'use strict';
// Prepares the shared model store before triage and Triton use it:
//   <store>/repository  the model repository (Triton's --model-repository, triage's TRIAGE_MODEL_REPOSITORY)
//   <store>/staging     where triage unpacks and checks uploads (TRIAGE_STAGING_DIR); on the same
//                       filesystem and the same mount as the repository, as a model moves in with one rename
// With --samples, an empty repository gets a copy of the sample models (unmanaged until deployed).
// Exits 1, saying why, when the store is not writable by this user.
//   node deploy/docker/prepare-store.js /store [--samples]
const fs = require('node:fs');
const path = require('node:path');

const store = process.argv[2];
if (!store) {
  process.stderr.write('usage: node deploy/docker/prepare-store.js <store> [--samples]\n');
  process.exit(2);
}
const repository = path.join(store, 'repository');
const staging = path.join(store, 'staging');
try {
  fs.mkdirSync(repository, { recursive: true });
  fs.mkdirSync(staging, { recursive: true });
  fs.accessSync(repository, fs.constants.W_OK);
  fs.accessSync(staging, fs.constants.W_OK);
} catch (error) {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'unknown';
  process.stderr.write(`prepare-store: ${store} must be writable by uid ${uid} (${error.message})\n`);
  process.exit(1);
}
if (process.argv.includes('--samples') && fs.readdirSync(repository).filter((name) => !name.startsWith('.')).length === 0) {
  const samples = path.join(__dirname, '..', '..', 'model-repository');
  for (const entry of fs.readdirSync(samples, { withFileTypes: true })) {
    if (entry.isDirectory()) fs.cpSync(path.join(samples, entry.name), path.join(repository, entry.name), { recursive: true });
  }
  process.stdout.write(`prepare-store: copied the sample models into ${repository}\n`);
}
process.stdout.write(`prepare-store: ${repository} and ${staging} are ready\n`);
