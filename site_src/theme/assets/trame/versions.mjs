// Releases, in the browser. A release's pages never change once published, so what came after
// them is read here, from the current `api/versions.json` at the site's root:
//   - a page of an older release says that a newer version exists, with a link to it;
//   - a commune page reached from the address of a commune merged into it (`?depuis=<insee>`)
//     says so, with links to the old pages;
//   - the citation and the embed code get the site's full address when the build did not know it;
//   - the changes since the previous release are drawn on the map (added, removed, modified),
//     with a check box to show or hide them.
// Every text from the data is written with textContent, never as HTML.

const meta = document.querySelector('meta[name="trame-version"]');
const VERSION = meta?.content || '';

function element(balise, classe, texte) {
  const el = document.createElement(balise);
  if (classe) el.className = classe;
  if (texte !== undefined) el.textContent = texte;
  return el;
}

function dateFr(iso) {
  const [a, m, j] = String(iso || '').split('-');
  return j ? `${j}/${m}/${a}` : String(iso || '');
}

// The release's root (where this page's links start) and the site's root: a release is read
// at the site's root (current addresses) or under versions/<id>/.
function racines() {
  const release = new URL(meta?.dataset.racine || './', location.href);
  const suffixe = `/versions/${encodeURIComponent(VERSION)}/`;
  const site = release.pathname.endsWith(suffixe) ? new URL('../../', release) : release;
  return { release, site };
}

function avertir(contenu, classe) {
  const bloc = element('div', `trame-avis ${classe}`);
  bloc.setAttribute('role', 'note');
  bloc.append(...contenu);
  const main = document.querySelector('main') || document.body;
  main.prepend(bloc);
  return bloc;
}

function lien(texte, href) {
  const a = element('a', '', texte);
  a.href = href;
  return a;
}

async function versions(site) {
  const reponse = await fetch(new URL('api/versions.json', site), { cache: 'no-cache' });
  if (!reponse.ok) throw new Error(`${reponse.status} : api/versions.json`);
  return reponse.json();
}

function signalerPlusRecente(donnees, { release, site }) {
  const derniere = (donnees.releases || []).find((r) => r.id === donnees.latest);
  if (!derniere || donnees.latest === VERSION) return;
  const chemin = location.pathname.startsWith(release.pathname)
    ? location.pathname.slice(release.pathname.length)
    : '';
  const actuelle = new URL(chemin, site);
  avertir(
    [
      element('strong', '', 'Une version plus récente existe. '),
      document.createTextNode(
        `Vous consultez la version ${VERSION} ; la plus récente est celle du ${dateFr(derniere.date)} (${derniere.id}). `,
      ),
      lien('Voir la version actuelle de cette page', actuelle.href),
      document.createTextNode(' · '),
      lien('toutes les versions', new URL('versions/', site).href),
    ],
    'trame-avis--version',
  ).dataset.trameVersionRecente = derniere.id;
}

function signalerFusion(donnees, { site }) {
  const ancien = new URLSearchParams(location.search).get('depuis');
  const fusion = ancien && (donnees.merged_communes || {})[ancien];
  if (!fusion) return;
  const contenu = [
    document.createTextNode(
      `La commune ${fusion.name} (${ancien}) a fusionné avec ${fusion.into_name} (${fusion.into})` +
        (fusion.date ? ` le ${dateFr(fusion.date)}` : '') +
        ' : vous avez été conduit à la page de la commune actuelle.',
    ),
  ];
  if ((fusion.pages || []).length) {
    contenu.push(document.createTextNode(' Pages publiées avant la fusion : '));
    fusion.pages.forEach((page, rang) => {
      if (rang) contenu.push(document.createTextNode(', '));
      contenu.push(lien(`version ${page.release}`, new URL(page.url, site).href));
    });
    contenu.push(document.createTextNode('.'));
  }
  avertir(contenu, 'trame-avis--fusion').dataset.trameFusion = ancien;
}

function completerAdresses({ site }) {
  for (const a of document.querySelectorAll('a[data-completer]')) a.textContent = a.href;
  for (const code of document.querySelectorAll('code[data-integrer]')) {
    const adresse = new URL(code.dataset.integrer, site).href;
    code.textContent = code.textContent.replace(/src="[^"]*"/, `src="${adresse}"`);
  }
}

// ---------------------------------------------------------------------------------------------
// The changes on the map.

const COULEURS = { added: '#18753c', removed: '#ce0500', modified: '#b34000' };
const COUCHES = ['changements-surface', 'changements-ligne', 'changements-point'];

function ajouterCouches(map, donnees) {
  if (map.getSource('changements')) return;
  map.addSource('changements', { type: 'geojson', data: donnees });
  const couleur = ['match', ['get', 'change'], 'added', COULEURS.added, 'removed', COULEURS.removed, COULEURS.modified];
  const trait = ['match', ['get', 'change'], 'removed', ['literal', [2, 1.5]], ['literal', [1, 0]]];
  map.addLayer({
    id: 'changements-surface', type: 'line', source: 'changements',
    filter: ['==', ['geometry-type'], 'Polygon'],
    paint: { 'line-color': couleur, 'line-width': 3, 'line-dasharray': trait },
  });
  map.addLayer({
    id: 'changements-ligne', type: 'line', source: 'changements',
    filter: ['==', ['geometry-type'], 'LineString'],
    paint: { 'line-color': couleur, 'line-width': 5, 'line-opacity': 0.8, 'line-dasharray': trait },
  });
  map.addLayer({
    id: 'changements-point', type: 'circle', source: 'changements',
    filter: ['==', ['geometry-type'], 'Point'],
    paint: {
      'circle-radius': 9, 'circle-opacity': 0,
      'circle-stroke-color': couleur, 'circle-stroke-width': 3,
    },
  });
}

function caseChangements(section, map) {
  const bloc = element('p', 'trame-changements__bascule');
  const id = 'afficher-changements';
  const coche = element('input');
  Object.assign(coche, { type: 'checkbox', id, checked: true });
  const etiquette = element('label', '', 'Montrer sur la carte les changements depuis la version précédente ');
  etiquette.htmlFor = id;
  for (const [cle, texte] of [['added', 'ajouts'], ['removed', 'suppressions (tiretés)'], ['modified', 'modifications']]) {
    const pastille = element('span', 'trame-changements__pastille', texte);
    pastille.style.borderColor = COULEURS[cle];
    etiquette.append(pastille, document.createTextNode(' '));
  }
  coche.addEventListener('change', () => {
    for (const couche of COUCHES) {
      if (map.getLayer(couche)) map.setLayoutProperty(couche, 'visibility', coche.checked ? 'visible' : 'none');
    }
  });
  bloc.append(coche, document.createTextNode(' '), etiquette);
  const carte = document.querySelector('.trame-carte-section .trame-legende') || section.querySelector('p');
  carte.after(bloc);
}

function dessinerChangements(map) {
  const section = document.querySelector('[data-changements]');
  if (!section || map.getSource('changements')) return;
  fetch(section.dataset.changements)
    .then((reponse) => (reponse.ok ? reponse.json() : Promise.reject(new Error(String(reponse.status)))))
    .then((donnees) => {
      const poser = () => {
        ajouterCouches(map, donnees);
        caseChangements(section, map);
        window.trameChangements = donnees.features.length;
      };
      if (map.isStyleLoaded()) poser();
      else map.once('load', poser);
    })
    .catch((erreur) => console.warn('Changements :', erreur.message));
}

// ---------------------------------------------------------------------------------------------

if (VERSION) {
  const ou = racines();
  completerAdresses(ou);
  versions(ou.site)
    .then((donnees) => {
      signalerPlusRecente(donnees, ou);
      signalerFusion(donnees, ou);
    })
    .catch((erreur) => console.warn('Versions :', erreur.message));
}
if (document.querySelector('[data-changements]')) {
  if (window.trameCarte) dessinerChangements(window.trameCarte);
  document.addEventListener('trame:carte', (evenement) => dessinerChangements(evenement.detail.map));
}
