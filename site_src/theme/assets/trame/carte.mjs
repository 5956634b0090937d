// The map part of a Trame page. The page reads fine without it: the static map (an SVG image),
// the legend, the figures and the text are plain HTML. This module
//   - turns the legend into a list of check boxes (show or hide each item) that folds on phones,
//   - makes each identifier of the table of elements a button that shows it on the map,
//   - and turns each `.trame-carte` into an interactive MapLibre map: at once on wide screens
//     (after the first paint: MapLibre is 1 MB of script), on phones when asked to (a button
//     over the static map), to spare their data and processor.
//
// MapLibre 6 is an ES module that starts its worker from `maplibre-gl-worker.mjs` found beside
// itself, so the vendored folder keeps its files together. Every text that comes from the data
// is written with textContent, never as HTML.

const VENDOR = new URL('../vendor/maplibre-gl/', import.meta.url).href;
const GRAND_ECRAN = '(min-width: 40em)';
const SANS_ANIMATION = matchMedia('(prefers-reduced-motion: reduce)').matches;
const SURBRILLANCE = '#161616';
const AUCUN = '\u0000';
// The DSFR theme (site_src/theme-dsfr) marks its pages: the legend's check boxes take its markup.
const DSFR = document.documentElement.dataset.trameTheme === 'dsfr';

const FRANCAIS = {
  'Map.Title': 'Carte interactive : flèches pour se déplacer, touches + et − pour zoomer',
  'AttributionControl.ToggleAttribution': 'Afficher ou masquer les sources',
  'NavigationControl.ZoomIn': 'Zoomer',
  'NavigationControl.ZoomOut': 'Dézoomer',
  'NavigationControl.ResetBearing': 'Réorienter la carte vers le nord',
  'FullscreenControl.Enter': 'Afficher la carte en plein écran',
  'FullscreenControl.Exit': 'Quitter le plein écran',
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

function element(balise, classe, texte) {
  const el = document.createElement(balise);
  if (classe) el.className = classe;
  if (texte !== undefined) el.textContent = texte;
  return el;
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

async function lireJson(adresse) {
  const reponse = await fetch(adresse);
  if (!reponse.ok) throw new Error(`${reponse.status} : ${adresse}`);
  return reponse.json();
}

// Resolves after the browser has painted a frame: the text and the static map come first.
function apresPremierRendu() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

function chargerCss(href) {
  if (document.querySelector(`link[rel="stylesheet"][href="${href}"]`)) return Promise.resolve();
  return new Promise((resolve) => {
    const lien = Object.assign(document.createElement('link'), { rel: 'stylesheet', href });
    lien.onload = lien.onerror = () => resolve();
    document.head.append(lien);
  });
}

// ---------------------------------------------------------------------------------------------
// The view in the address: #carte=zoom/latitude/longitude (a permalink that reopens the view).

const VUE = /^#carte=(\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/;

function lireVue(hash) {
  const m = VUE.exec(hash || '');
  if (!m) return null;
  const [zoom, lat, lon] = m.slice(1).map(Number);
  return Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? { zoom, center: [lon, lat] } : null;
}

function ecrireVue(map) {
  const { lng, lat } = map.getCenter();
  return `#carte=${map.getZoom().toFixed(2)}/${lat.toFixed(5)}/${lng.toFixed(5)}`;
}

class ControlePermalien {
  onAdd(map) {
    this.conteneur = element('div', 'maplibregl-ctrl maplibregl-ctrl-group trame-permalien');
    const lien = element('a', '', 'Lien vers cette vue');
    lien.href = ecrireVue(map);
    lien.title = 'Adresse de cette page avec la vue actuelle de la carte (à copier ou partager)';
    map.on('moveend', () => (lien.href = ecrireVue(map)));
    this.conteneur.append(lien);
    return this.conteneur;
  }

  onRemove() {
    this.conteneur.remove();
  }
}

// ---------------------------------------------------------------------------------------------
// The style: tile URLs made absolute, the commune highlighted, the legend items described.

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

const GEOMETRIES = { fill: 'polygon', line: 'line', circle: 'point' };

// item id -> {label, fields, geometry, couches: [layer ids]}, from the layers' metadata.
function decrireItems(style, insee) {
  const items = new Map();
  for (const couche of style.layers || []) {
    const meta = couche.metadata || {};
    const item = meta['trame:item'];
    if (!item) continue;
    if (!items.has(item)) {
      items.set(item, { label: item, fields: [], geometry: GEOMETRIES[couche.type], couches: [] });
    }
    const d = items.get(item);
    d.couches.push(couche.id);
    d.sourceLayer ??= couche['source-layer'];
    if (meta['trame:label']) d.label = meta['trame:label'];
    if (meta['trame:fields']) d.fields = meta['trame:fields'];
    if (meta['trame:geometry']) d.geometry = meta['trame:geometry'];
  }
  const contours = ['communes-contour', ...(insee ? ['commune-selection'] : [])];
  const contour = (style.layers || []).find((couche) => couche.id === 'communes-contour');
  const label = (contour?.metadata || {})['trame:label'] || 'communes';
  items.set('communes', { label, fields: [], couches: contours });
  return items;
}

// One highlight per item, on top of everything: a white halo under a dark outline.
function couchesDeSurbrillance(item, d) {
  const commun = {
    source: 'trame', 'source-layer': d.sourceLayer, metadata: { 'trame:item': item },
    filter: ['==', ['to-string', ['get', 'id']], AUCUN],
  };
  if (d.geometry === 'point') {
    return [{
      id: `${item}-surbrillance`, type: 'circle', ...commun,
      paint: {
        'circle-radius': 11, 'circle-opacity': 0,
        'circle-stroke-color': SURBRILLANCE, 'circle-stroke-width': 3,
      },
    }];
  }
  return [
    { id: `${item}-surbrillance-halo`, type: 'line', ...commun,
      paint: { 'line-color': '#ffffff', 'line-width': 7, 'line-opacity': 0.9 } },
    { id: `${item}-surbrillance`, type: 'line', ...commun,
      paint: { 'line-color': SURBRILLANCE, 'line-width': 3 } },
  ];
}

// ---------------------------------------------------------------------------------------------
// Attributes of an element, as a definition list built with textContent only.

function fiche(description, proprietes) {
  const bloc = element('div', 'trame-fiche');
  bloc.append(element('p', 'trame-fiche__titre', description?.label ?? 'Élément'));
  const liste = element('dl');
  // [[field, label], ...] in the configured order (an object is accepted too).
  const labels = description?.fields || [];
  let champs = Array.isArray(labels) ? labels : Object.entries(labels);
  if (!champs.length) champs = [['id', 'Identifiant']];
  for (const [champ, libelle] of champs) {
    const valeur = proprietes?.[champ];
    if (valeur === undefined || valeur === null || valeur === '') continue;
    const ligne = element('div');
    ligne.append(element('dt', '', String(libelle)), element('dd', '', String(valeur)));
    liste.append(ligne);
  }
  bloc.append(liste);
  return bloc;
}

function etendre(bornes, coordonnees) {
  if (typeof coordonnees[0] === 'number') {
    const [x, y] = coordonnees;
    bornes[0] = Math.min(bornes[0], x);
    bornes[1] = Math.min(bornes[1], y);
    bornes[2] = Math.max(bornes[2], x);
    bornes[3] = Math.max(bornes[3], y);
  } else {
    for (const c of coordonnees) etendre(bornes, c);
  }
  return bornes;
}

// ---------------------------------------------------------------------------------------------
// Commune names as HTML labels over the map (no glyphs to serve, nothing from another host):
// decorative (aria-hidden), the names are in the page's text. Greedy placement without overlap,
// the page's commune first, then the largest ones.

function etiqueter(map, communes, inseeCourant) {
  const calque = element('div', 'trame-etiquettes');
  calque.setAttribute('aria-hidden', 'true');
  map.getCanvasContainer().after(calque);
  const aire = (b) => (b ? (b[2] - b[0]) * (b[3] - b[1]) : 0);
  const etiquettes = communes
    .filter((c) => c.nom && (Array.isArray(c.label) || Array.isArray(c.bbox)))
    .map((c) => {
      const point = Array.isArray(c.label)
        ? c.label
        : [(c.bbox[0] + c.bbox[2]) / 2, (c.bbox[1] + c.bbox[3]) / 2];
      const courante = c.insee === inseeCourant;
      const span = element('span', `trame-etiquette${courante ? ' trame-etiquette--courante' : ''}`, c.nom);
      calque.append(span);
      return { span, point, rang: courante ? Infinity : aire(c.bbox) };
    })
    .sort((a, b) => b.rang - a.rang);
  for (const e of etiquettes) {
    e.largeur = e.span.offsetWidth;
    e.hauteur = e.span.offsetHeight;
  }

  // The controls (zoom, scale, attribution…) are obstacles too.
  const obstacles = () => {
    const cadre = map.getContainer().getBoundingClientRect();
    return [...map.getContainer().querySelectorAll('.maplibregl-ctrl')].map((c) => {
      const r = c.getBoundingClientRect();
      return [r.left - cadre.left, r.top - cadre.top, r.right - cadre.left, r.bottom - cadre.top];
    });
  };

  function placer() {
    const largeur = map.getContainer().clientWidth;
    const hauteur = map.getContainer().clientHeight;
    const places = obstacles();
    for (const e of etiquettes) {
      const p = map.project(e.point);
      const boite = [p.x - e.largeur / 2, p.y - e.hauteur / 2, p.x + e.largeur / 2, p.y + e.hauteur / 2];
      const visible =
        boite[0] >= 0 && boite[1] >= 0 && boite[2] <= largeur && boite[3] <= hauteur &&
        !places.some((b) => boite[0] < b[2] + 4 && b[0] < boite[2] + 4 && boite[1] < b[3] && b[1] < boite[3]);
      e.span.hidden = !visible;
      if (visible) {
        e.span.style.transform = `translate(${Math.round(boite[0])}px, ${Math.round(boite[1])}px)`;
        places.push(boite);
      }
    }
  }
  map.on('move', placer);
  map.on('resize', placer);
  placer();
  return calque;
}

// ---------------------------------------------------------------------------------------------
// The interactive map itself.

async function creerCarte(el, options) {
  const { site, racine, insee, visibles } = options;
  const adresseStyle = new URL(el.dataset.style || 'api/style.json', racine).href;
  el.dataset.etat = 'chargement';
  performance.mark('trame:debut');
  const communes = lireJson(`${racine}api/communes.json`).catch((erreur) => {
    noter(erreur);
    return [];
  });
  const [maplibregl, style] = await Promise.all([
    import(`${VENDOR}maplibre-gl.mjs`),
    lireJson(adresseStyle).then((s) => preparerStyle(s, racine, insee)),
    chargerCss(`${VENDOR}maplibre-gl.css`),
    chargerCss(new URL('carte.css', import.meta.url).href),
  ]);
  performance.mark('trame:maplibre');
  // Start the tile worker now: it loads while the map sets up WebGL, not after.
  maplibregl.prewarm?.();
  const items = decrireItems(style, insee);
  // The highlight layers are part of the style from the start: adding layers later would make
  // the worker parse the tiles again.
  for (const [item, d] of items) {
    if (item === 'communes' || !d.sourceLayer) continue;
    for (const couche of couchesDeSurbrillance(item, d)) {
      style.layers.push(couche);
      d.couches.push(couche.id);
    }
  }
  for (const [item, visible] of visibles) {
    if (visible) continue;
    for (const couche of style.layers || []) {
      if (items.get(item)?.couches.includes(couche.id)) {
        couche.layout = { ...couche.layout, visibility: 'none' };
      }
    }
  }
  const bornesCommune = lireBbox(el.dataset.bbox) || style.sources?.trame?.bounds;
  const vue = lireVue(location.hash);
  el.replaceChildren();

  const map = new maplibregl.Map({
    container: el,
    style,
    ...(vue ? vue : { bounds: bornesCommune }),
    fitBoundsOptions: { padding: el.clientWidth < 500 ? 12 : 24 },
    locale: FRANCAIS,
    attributionControl: {
      compact: true,
      customAttribution: [...(site.sources || []).map(echapper), 'MapLibre'],
    },
    cooperativeGestures: true,
    fadeDuration: 0,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
  });
  performance.mark('trame:carte');
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.FullscreenControl(), 'top-right');
  map.addControl(new ControlePermalien(), 'top-left');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.on('error', (e) => noter(e.error || e));

  const itemsDessines = [...items].filter(([item, d]) => item !== 'communes' && d.sourceLayer);
  const couchesCliquables = itemsDessines.flatMap(([, d]) => d.couches);

  let chargee = false; // the style's layers can be queried
  map.once('load', () => {
    chargee = true;
    performance.mark('trame:load');
    // The sources are long and also printed in the page: start with the attribution folded.
    const attribution = el.querySelector('.maplibregl-ctrl-attrib');
    attribution?.removeAttribute('open');
    attribution?.classList.remove('maplibregl-compact-show');
  });
  map.once('idle', () => {
    el.dataset.etat = 'prete';
    performance.mark('trame:idle');
    window.trameIdleMs ??= Math.round(performance.now());
    // From now on the address follows the view (a permalink); the first view is the page's own.
    map.on('moveend', () => {
      const hash = ecrireVue(map);
      if (location.hash !== hash) history.replaceState(history.state, '', hash);
    });
  });
  addEventListener('hashchange', () => {
    const nouvelle = lireVue(location.hash);
    if (nouvelle) map.jumpTo(nouvelle);
  });

  // Popups: attributes of the elements under the pointer, or the element chosen in the table.
  const popup = new maplibregl.Popup({ maxWidth: '22rem', className: 'trame-popup' });
  let origine = null;
  popup.on('close', () => {
    surligner(null);
    const focus = document.activeElement;
    if (origine?.isConnected && (focus === document.body || popup.getElement()?.contains(focus))) {
      origine.focus();
    }
    origine = null;
  });

  function surligner(choix) {
    for (const [item] of itemsDessines) {
      for (const id of [`${item}-surbrillance`, `${item}-surbrillance-halo`]) {
        if (!map.getLayer(id)) continue;
        const valeur = choix && choix.item === item ? String(choix.id) : AUCUN;
        map.setFilter(id, ['==', ['to-string', ['get', 'id']], valeur]);
      }
    }
  }

  function montrer(entites, position, depuis) {
    const contenu = element('div', 'trame-fiches');
    for (const { item, proprietes } of entites) contenu.append(fiche(items.get(item), proprietes));
    popup.remove();
    origine = depuis || null;
    surligner(entites.length === 1 ? { item: entites[0].item, id: entites[0].proprietes.id } : null);
    popup.setLngLat(position).setDOMContent(contenu).addTo(map);
    popup.getElement()?.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') popup.remove();
    });
  }

  const bulle = new maplibregl.Popup({ closeButton: false, closeOnClick: false, offset: 12 });
  const liens = communes.then((liste) => new Map(liste.map((c) => [c.insee, c])));
  const survolables = ['communes-fond', ...couchesCliquables];
  // Hovering: a pointer over what can be clicked, and the name of a neighbour (its page opens).
  map.on('mousemove', (e) => {
    if (!chargee) return;
    const sous = map.queryRenderedFeatures(e.point, { layers: survolables });
    const commune = sous.find((f) => f.layer.id === 'communes-fond')?.properties;
    const surElement = sous.some((f) => f.layer.id !== 'communes-fond');
    const voisine = commune && commune.insee !== insee;
    map.getCanvas().style.cursor = surElement || voisine ? 'pointer' : '';
    if (voisine && commune.nom && !surElement) {
      bulle.setLngLat(e.lngLat).setText(`${commune.nom} : ouvrir sa page`).addTo(map);
    } else {
      bulle.remove();
    }
  });
  map.on('mouseout', () => bulle.remove());
  // Clicking: the attributes of the elements there (up to 5), else the neighbour's page.
  map.on('click', async (e) => {
    if (!chargee) return;
    const { x, y } = e.point;
    const zone = [[x - 4, y - 4], [x + 4, y + 4]];
    const vus = new Set();
    const entites = [];
    for (const f of map.queryRenderedFeatures(zone, { layers: couchesCliquables })) {
      const item = f.layer.metadata?.['trame:item'];
      const cle = `${item}|${f.properties.id}`;
      if (!item || vus.has(cle)) continue;
      vus.add(cle);
      entites.push({ item, proprietes: f.properties });
    }
    if (entites.length) {
      montrer(entites.slice(0, 5), e.lngLat);
      return;
    }
    const commune = map.queryRenderedFeatures(e.point, { layers: ['communes-fond'] })[0];
    const code = commune?.properties?.insee;
    if (!code || code === insee) return;
    const cible = (await liens).get(code);
    if (cible?.url) location.href = new URL(cible.url, racine).href;
  });

  communes.then((liste) => {
    if (map.loaded()) etiqueter(map, liste, insee);
    else map.once('load', () => etiqueter(map, liste, insee));
  });

  function trouver(itemsPossibles, id) {
    for (const item of itemsPossibles) {
      const d = items.get(item);
      if (!d?.sourceLayer) continue;
      const morceaux = map.querySourceFeatures('trame', {
        sourceLayer: d.sourceLayer,
        filter: ['==', ['to-string', ['get', 'id']], String(id)],
      });
      if (!morceaux.length) continue;
      const bornes = [Infinity, Infinity, -Infinity, -Infinity];
      for (const m of morceaux) etendre(bornes, m.geometry.coordinates);
      return { item, bornes, proprietes: morceaux[0].properties, geometrie: d.geometry };
    }
    return null;
  }

  return {
    map,
    basculer(item, visible) {
      for (const id of items.get(item)?.couches || []) {
        if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
      }
    },
    // The element `id` of the legend item labelled `libelle` (from the table below the map).
    async afficherElement(libelle, id, depuis) {
      const parLibelle = itemsDessines.filter(([, d]) => d.label === libelle).map(([item]) => item);
      const possibles = parLibelle.length ? parLibelle : itemsDessines.map(([item]) => item);
      let trouve = trouver(possibles, id);
      if (!trouve && bornesCommune) {
        map.fitBounds(bornesCommune, { padding: 24, animate: false });
        await map.once('idle');
        trouve = trouver(possibles, id);
      }
      if (!trouve) return false;
      if (options.rendreVisible(trouve.item)) this.basculer(trouve.item, true);
      const [o, s, e, n] = trouve.bornes;
      map.fitBounds([o, s, e, n], {
        padding: Math.min(60, el.clientWidth / 6), maxZoom: 15, duration: SANS_ANIMATION ? 0 : 400,
      });
      const position = trouve.geometrie === 'point' ? [o, s] : [(o + e) / 2, (s + n) / 2];
      montrer([{ item: trouve.item, proprietes: trouve.proprietes }], position, depuis);
      return true;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The page around the map: legend, table of elements, start of the map.

function amenagerLegende(legende, visibles, demarrer) {
  const titre = legende.querySelector('h2, h3, h4');
  const liste = legende.querySelector('ul');
  if (!liste) return { cases: new Map() };
  const prefixe = (titre?.id || 'legende').replace(/[^\w-]/g, '');
  liste.id ||= `${prefixe}-liste`;

  // Folding: a disclosure button in the heading; folded by default on phones.
  if (titre) {
    const bouton = element('button', 'trame-legende__bouton');
    bouton.type = 'button';
    bouton.setAttribute('aria-controls', liste.id);
    bouton.append(...titre.childNodes);
    titre.replaceChildren(bouton);
    const ouvrir = (ouvert) => {
      bouton.setAttribute('aria-expanded', String(ouvert));
      liste.hidden = !ouvert;
    };
    bouton.addEventListener('click', () => ouvrir(bouton.getAttribute('aria-expanded') !== 'true'));
    ouvrir(matchMedia(GRAND_ECRAN).matches);
  }

  // Each item becomes a check box that shows or hides it on the map.
  const cases = new Map();
  for (const ligne of liste.querySelectorAll('li[data-item]')) {
    const item = ligne.dataset.item;
    const etiquette = element('label');
    const coche = element('input');
    coche.type = 'checkbox';
    coche.checked = true;
    coche.id = `${prefixe}-${item}`;
    coche.name = item;
    if (DSFR) {
      // The State design system's check box: the input, then its label (drawn by the label).
      ligne.classList.add('fr-checkbox-group', 'fr-checkbox-group--sm');
      etiquette.className = 'fr-label';
      etiquette.htmlFor = coche.id;
      etiquette.append(...ligne.childNodes);
      ligne.replaceChildren(coche, etiquette);
    } else {
      etiquette.append(coche, ...ligne.childNodes);
      ligne.replaceChildren(etiquette);
    }
    coche.addEventListener('change', async () => {
      visibles.set(item, coche.checked);
      const carte = await demarrer();
      carte?.basculer(item, coche.checked);
    });
    cases.set(item, coche);
  }
  legende.classList.add('trame-legende--interactive');
  return { cases };
}

function amenagerTableau(tableau, demarrer) {
  const aide = element('span', '', 'Afficher cet élément et ses caractéristiques sur la carte');
  aide.id = 'trame-aide-element';
  aide.hidden = true;
  tableau.after(aide);
  tableau.querySelector('caption')?.append(
    element('span', 'trame-legende-tableau', ' Choisissez un identifiant pour voir l’élément sur la carte.'),
  );
  for (const cellule of tableau.querySelectorAll('tbody th[scope="row"]')) {
    const id = cellule.textContent.trim();
    const libelle = cellule.nextElementSibling?.textContent.trim() ?? '';
    const bouton = element('button', 'trame-element', id);
    bouton.type = 'button';
    bouton.setAttribute('aria-describedby', aide.id);
    bouton.addEventListener('click', async () => {
      const carte = await demarrer();
      if (carte && !(await carte.afficherElement(libelle, id, bouton))) {
        bouton.setAttribute('aria-disabled', 'true');
        bouton.title = 'Élément introuvable sur la carte';
      }
    });
    cellule.replaceChildren(bouton);
  }
}

function signalerEchec(el, figure, erreur) {
  noter(erreur);
  el.dataset.etat = 'erreur';
  const message = element(
    'p',
    'trame-carte-message',
    'La carte interactive n’a pas pu s’afficher sur cet appareil' +
      (figure ? ' : voici la carte statique. ' : '. ') +
      'La légende, les chiffres et le texte de la page restent valables.',
  );
  if (figure) {
    el.hidden = true;
    figure.prepend(message);
  } else {
    el.replaceChildren(message);
  }
}

function amenager(el, site, rang) {
  const section = el.closest('section') || el.parentElement;
  const suivant = el.nextElementSibling;
  const figure = suivant?.matches('.trame-carte-statique') ? suivant : null;
  const racine = new URL(el.dataset.root || './', location.href).href;
  const insee = el.dataset.insee || '';
  const visibles = new Map();
  let legende = { cases: new Map() };
  let carte = null;

  const demarrer = () =>
    (carte ??= creerCarte(el, {
      site, racine, insee, visibles,
      // An element chosen in the table shows even if its item was hidden: tick it again.
      rendreVisible(item) {
        const coche = legende.cases.get(item);
        if (coche) coche.checked = true;
        const cache = visibles.get(item) === false;
        visibles.set(item, true);
        return cache;
      },
    })
      .then((c) => {
        if (rang === 0) {
          window.trameCarte = c.map;
          document.dispatchEvent(new CustomEvent('trame:carte', { detail: { map: c.map } }));
        }
        return c;
      })
      .catch((erreur) => {
        signalerEchec(el, figure, erreur);
        section.querySelector('.trame-legende')?.classList.add('trame-legende--statique');
        for (const coche of legende.cases.values()) {
          coche.parentElement?.classList.remove('fr-checkbox-group', 'fr-checkbox-group--sm');
          coche.remove();
        }
        return null;
      }));

  const blocLegende = section.querySelector('.trame-legende');
  if (blocLegende) legende = amenagerLegende(blocLegende, visibles, demarrer);
  const tableau = rang === 0 && insee ? document.querySelector('table.trame-elements') : null;
  if (tableau) amenagerTableau(tableau, demarrer);

  if (matchMedia(GRAND_ECRAN).matches) {
    // main.html imports this module after the first paint; otherwise wait for it here.
    if (performance.getEntriesByType('paint').length) demarrer();
    else apresPremierRendu().then(demarrer);
    return;
  }
  // Phones: the static map stays; the interactive one comes on request.
  el.dataset.etat = 'attente';
  const bouton = element('button', 'trame-carte-activer', 'Afficher la carte interactive');
  bouton.type = 'button';
  bouton.addEventListener('click', () => {
    bouton.remove();
    demarrer().then((c) => c?.map.getCanvas().focus());
  });
  (figure || el).append(bouton);
}

const site = donneesDuSite();
for (const [rang, el] of document.querySelectorAll('.trame-carte').entries()) {
  amenager(el, site, rang);
}
