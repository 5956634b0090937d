// Interactive map of a Trame page. The page reads fine without it: the legend, the figures and the
// text are plain HTML; this module only turns each empty `.trame-carte` element into a map.
//
// MapLibre 6 is an ES module; it starts its worker from `maplibre-gl-worker.mjs` found beside
// itself (import.meta.url), so the vendored folder must keep the three files together.
import * as maplibregl from '../vendor/maplibre-gl/maplibre-gl.mjs';

const FRANCAIS = {
  'Map.Title': 'Carte interactive : flèches pour se déplacer, touches + et − pour zoomer',
  'AttributionControl.ToggleAttribution': 'Afficher ou masquer les sources',
  'NavigationControl.ZoomIn': 'Zoomer',
  'NavigationControl.ZoomOut': 'Dézoomer',
  'NavigationControl.ResetBearing': 'Réorienter la carte vers le nord',
  'Popup.Close': 'Fermer',
  'ScaleControl.Meters': 'm',
  'ScaleControl.Kilometers': 'km',
  'CooperativeGesturesHandler.WindowsHelpText': 'Ctrl + molette pour zoomer sur la carte',
  'CooperativeGesturesHandler.MacHelpText': '⌘ + molette pour zoomer sur la carte',
  'CooperativeGesturesHandler.MobileHelpText': 'Utilisez deux doigts pour déplacer la carte',
};

// Tests read these: every map `error` event and the time (ms since navigation) of the first idle.
window.trameErreurs = window.trameErreurs || [];

function noter(erreur) {
  const message = String((erreur && erreur.message) || erreur);
  window.trameErreurs.push(message);
  console.warn('Carte :', message);
}

function donneesDuSite() {
  const el = document.getElementById('trame-donnees');
  try {
    return el ? JSON.parse(el.textContent) : {};
  } catch {
    return {};
  }
}

// MapLibre inserts attributions as HTML: escape the site's own texts.
function echapper(texte) {
  return String(texte).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function lireBbox(texte) {
  const n = String(texte || '').split(',').map(Number);
  return n.length === 4 && n.every(Number.isFinite) ? n : null;
}

// Tile URLs must be absolute (a relative one resolves against the worker's URL). `{z}` must stay
// literal, hence string operations rather than `new URL()`, which would percent-encode it.
function preparerStyle(style, racine, insee) {
  for (const source of Object.values(style.sources || {})) {
    if (Array.isArray(source.tiles)) {
      source.tiles = source.tiles.map((modele) => modele.split('{root}').join(racine));
    }
    if (typeof source.url === 'string') source.url = source.url.split('{root}').join(racine);
    if (typeof source.attribution === 'string') source.attribution = echapper(source.attribution);
  }
  for (const couche of style.layers || []) {
    if (couche.id !== 'commune-selection' && couche.id !== 'commune-masque') continue;
    if (insee) {
      couche.filter = [couche.id === 'commune-selection' ? '==' : '!=', ['get', 'insee'], insee];
    } else {
      couche.layout = { ...couche.layout, visibility: 'none' }; // home page: nothing selected
    }
  }
  return style;
}

// Hovering a commune shows its name; clicking another commune opens its page.
function relierCommunes(map, racine, inseeCourant) {
  const bulle = new maplibregl.Popup({ closeButton: false, closeOnClick: false, offset: 12 });
  let index = null;
  const communes = () =>
    (index ??= fetch(`${racine}api/communes.json`)
      .then((r) => (r.ok ? r.json() : []))
      .then((d) => new Map((Array.isArray(d) ? d : d.communes || []).map((c) => [c.insee, c]))));

  map.on('mousemove', 'communes-fond', (e) => {
    const proprietes = e.features?.[0]?.properties || {};
    map.getCanvas().style.cursor = proprietes.insee === inseeCourant ? '' : 'pointer';
    if (proprietes.nom) bulle.setLngLat(e.lngLat).setText(proprietes.nom).addTo(map);
  });
  map.on('mouseleave', 'communes-fond', () => {
    map.getCanvas().style.cursor = '';
    bulle.remove();
  });
  map.on('click', 'communes-fond', async (e) => {
    const insee = e.features?.[0]?.properties?.insee;
    if (!insee || insee === inseeCourant) return;
    const commune = (await communes()).get(insee);
    if (commune?.url) location.href = new URL(commune.url, racine).href;
  });
}

async function creerCarte(el, site) {
  const racine = new URL(el.dataset.root || './', location.href).href;
  const adresse = new URL(el.dataset.style || 'api/style.json', racine).href;
  const insee = el.dataset.insee || '';
  el.dataset.etat = 'chargement';
  const reponse = await fetch(adresse);
  if (!reponse.ok) throw new Error(`style introuvable (${reponse.status}) : ${adresse}`);
  const style = preparerStyle(await reponse.json(), racine, insee);
  const bornes = lireBbox(el.dataset.bbox) || style.sources?.trame?.bounds;
  const sources = (site.sources || []).map(echapper);

  const map = new maplibregl.Map({
    container: el,
    style,
    bounds: bornes,
    fitBoundsOptions: { padding: el.clientWidth < 500 ? 12 : 24 },
    locale: FRANCAIS,
    attributionControl: { compact: true, customAttribution: [...sources, 'MapLibre'] },
    cooperativeGestures: true,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
  });
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.on('error', (e) => noter(e.error || e));
  // The sources are long and also printed in the page: start with the attribution folded
  // (MapLibre opens it at first), the (i) button unfolds it.
  map.once('load', () => {
    const attribution = el.querySelector('.maplibregl-ctrl-attrib');
    attribution?.removeAttribute('open');
    attribution?.classList.remove('maplibregl-compact-show');
  });
  map.once('idle', () => {
    el.dataset.etat = 'prete';
    window.trameIdleMs ??= Math.round(performance.now());
  });
  if ((style.layers || []).some((couche) => couche.id === 'communes-fond')) {
    relierCommunes(map, racine, insee);
  }
  return map;
}

function signalerEchec(el, erreur) {
  noter(erreur);
  el.dataset.etat = 'erreur';
  const message = document.createElement('p');
  message.textContent =
    'La carte interactive n’a pas pu s’afficher sur cet appareil. ' +
    'La légende, les chiffres et le texte de la page restent valables.';
  el.replaceChildren(message);
}

const site = donneesDuSite();
for (const [rang, el] of document.querySelectorAll('.trame-carte').entries()) {
  creerCarte(el, site)
    .then((map) => {
      if (rang === 0) window.trameCarte = map;
    })
    .catch((erreur) => signalerEchec(el, erreur));
}
