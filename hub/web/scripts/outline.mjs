#!/usr/bin/env node
// Vietnam's outline and its neighbours' (Natural Earth 1:50m, from world-atlas) as GeoJSON for the
// map when no tile server answers: an IOC network often has no internet. Written to
// src/map/outline.generated.json (not kept in git), a few tens of kB instead of the world's 750.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { feature } from 'topojson-client';

const require = createRequire(import.meta.url);
const world = JSON.parse(readFileSync(require.resolve('world-atlas/countries-50m.json'), 'utf8'));
// ISO 3166 numeric: Vietnam, Laos, Cambodia, Thailand, China.
const KEEP = { '704': 'VN', '418': 'LA', '116': 'KH', '764': 'TH', '156': 'CN' };
const all = feature(world, world.objects.countries);
const round = (c) => (typeof c[0] === 'number' ? [Math.round(c[0] * 1e3) / 1e3, Math.round(c[1] * 1e3) / 1e3] : c.map(round));
const features = all.features
  .filter((f) => KEEP[f.id])
  .map((f) => ({ type: 'Feature', id: KEEP[f.id], properties: { iso: KEEP[f.id] }, geometry: { ...f.geometry, coordinates: round(f.geometry.coordinates) } }));
if (!features.some((f) => f.id === 'VN')) throw new Error('world-atlas: Vietnam (704) not found');
const out = new URL('../src/map/outline.generated.json', import.meta.url);
// src/map/ holds only this generated file, so a fresh checkout has no such folder.
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, JSON.stringify({ type: 'FeatureCollection', features }));
console.log(`outline: ${features.length} countries → ${out.pathname}`);
