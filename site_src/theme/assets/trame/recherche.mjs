// Commune search in the header of every page: a combobox with a list of suggestions, as in the
// WAI-ARIA Authoring Practices ("list autocomplete"). The index is the static file
// api/recherche.json = [{insee, nom, cp: [...], url}], fetched on first use; no server.
//
// Keys in the field: ↓/↑ move through the suggestions (Alt+↓ opens them), Entrée opens the page
// of the chosen commune (or of the first one), Échap closes the list, then clears the field.

const LIMITE = 10;

// "Condé-sur-l'Escaut" -> "conde sur l escaut": no accents, no case, words split on anything else.
export function normaliser(texte) {
  return String(texte ?? '')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

// "st amand" finds "Saint-Amand-les-Eaux", "ste" finds "Sainte-…".
function developper(requete) {
  return requete.replace(/\bst\b/g, 'saint').replace(/\bste\b/g, 'sainte');
}

export function preparer(entrees) {
  return (Array.isArray(entrees) ? entrees : []).map((e) => ({
    insee: String(e.insee ?? ''),
    nom: String(e.nom ?? ''),
    cp: (e.cp ?? e.codes_postaux ?? []).map(String),
    url: String(e.url ?? ''),
    cle: normaliser(e.nom),
  }));
}

// Rank 0: the name starts with the query, or a code (INSEE, postal) does; rank 1: a later word of
// the name starts with it ("amand"). Then alphabetical order in French.
export function chercher(index, texte, limite = LIMITE) {
  const requete = developper(normaliser(texte));
  if (!requete) return [];
  const code = requete.replace(/ /g, '');
  const trouves = [];
  for (const commune of index) {
    let rang = -1;
    if (commune.cle.startsWith(requete)) rang = 0;
    else if (/^[0-9][0-9ab]/.test(code) && (commune.insee.toLowerCase().startsWith(code) ||
             commune.cp.some((cp) => cp.startsWith(code)))) rang = 0;
    else if (commune.cle.includes(` ${requete}`)) rang = 1;
    if (rang >= 0) trouves.push({ rang, commune });
  }
  trouves.sort((a, b) => a.rang - b.rang || a.commune.nom.localeCompare(b.commune.nom, 'fr'));
  return trouves.slice(0, limite).map((t) => t.commune);
}

function pluriel(n, mot) {
  return `${n} ${mot}${n > 1 ? 's' : ''}`;
}

function activer(conteneur) {
  const formulaire = conteneur.querySelector('form');
  const champ = conteneur.querySelector('[role="combobox"]');
  const liste = conteneur.querySelector('[role="listbox"]');
  const statut = conteneur.querySelector('[data-recherche-statut]');
  if (!formulaire || !champ || !liste) return;

  const adresseIndex = new URL(conteneur.dataset.index, location.href);
  const racine = new URL(conteneur.dataset.racine || './', location.href);
  let index = null;
  let resultats = [];
  let actif = -1;
  let enCours = Promise.resolve(); // the latest search, for Enter typed before it ends

  // The index is small (about 100 bytes a commune) and loaded once, when the field is used.
  function chargerIndex() {
    index ??= fetch(adresseIndex)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${r.status} ${adresseIndex}`))))
      .then(preparer)
      .catch((erreur) => {
        console.warn('Recherche :', erreur.message);
        index = null;
        return [];
      });
    return index;
  }

  function ouvrir(ouverte) {
    liste.hidden = !ouverte;
    champ.setAttribute('aria-expanded', String(ouverte));
    if (!ouverte) choisir(-1);
  }

  function choisir(rang) {
    actif = rang;
    for (const [i, option] of [...liste.children].entries()) {
      option.setAttribute('aria-selected', String(i === rang));
    }
    if (rang >= 0) {
      const option = liste.children[rang];
      champ.setAttribute('aria-activedescendant', option.id);
      option.scrollIntoView({ block: 'nearest' });
    } else {
      champ.removeAttribute('aria-activedescendant');
    }
  }

  function allerA(commune) {
    if (commune) location.href = new URL(commune.url, racine).href;
  }

  async function mettreAJour() {
    const texte = champ.value;
    const communes = await chargerIndex();
    if (texte !== champ.value) return; // a newer keystroke already took over
    resultats = chercher(communes, texte);
    liste.replaceChildren(
      ...resultats.map((commune, i) => {
        const option = document.createElement('li');
        option.id = `recherche-option-${i}`;
        option.setAttribute('role', 'option');
        option.setAttribute('aria-selected', 'false');
        const nom = document.createElement('span');
        nom.className = 'recherche__nom';
        nom.textContent = commune.nom;
        const codes = document.createElement('span');
        codes.className = 'recherche__codes';
        codes.textContent = [commune.cp.join(', '), `INSEE ${commune.insee}`]
          .filter(Boolean)
          .join(' · ');
        option.append(nom, ' ', codes);
        option.addEventListener('click', () => allerA(commune));
        return option;
      }),
    );
    actif = -1;
    champ.removeAttribute('aria-activedescendant');
    ouvrir(resultats.length > 0);
    liste.dataset.requete = texte; // what the list answers (tests wait for it)
    if (statut) {
      statut.textContent = !normaliser(texte)
        ? ''
        : resultats.length
          ? `${pluriel(resultats.length, 'commune trouvée')}, flèche bas pour les parcourir.`
          : 'Aucune commune trouvée.';
    }
  }

  champ.addEventListener('focus', chargerIndex, { once: true });
  champ.addEventListener('input', () => (enCours = mettreAJour()));
  champ.addEventListener('keydown', (e) => {
    const nombre = resultats.length;
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (liste.hidden) {
        if (nombre) ouvrir(true);
        if (e.altKey) return;
      }
      if (nombre) choisir((actif + 1) % nombre);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      if (liste.hidden && nombre) ouvrir(true);
      if (nombre) choisir(actif <= 0 ? nombre - 1 : actif - 1);
    } else if (e.key === 'Escape') {
      if (!liste.hidden) ouvrir(false);
      else champ.value = '';
    } else if (e.key === 'Enter') {
      e.preventDefault();
      enCours.then(() => allerA(resultats[actif >= 0 ? actif : 0]));
    }
  });
  // A click in the list must not blur the field first (the list would close under the pointer).
  liste.addEventListener('mousedown', (e) => e.preventDefault());
  conteneur.addEventListener('focusout', (e) => {
    if (!conteneur.contains(e.relatedTarget)) ouvrir(false);
  });
  formulaire.addEventListener('submit', (e) => {
    e.preventDefault();
    enCours.then(() => allerA(resultats[actif >= 0 ? actif : 0]));
  });
  // This module loads after the first paint: catch up with what was typed before.
  if (champ.value) enCours = mettreAJour();
  else if (document.activeElement === champ) chargerIndex();
  conteneur.dataset.pret = '';
}

// The printed sheet names its own address (see .trame-adresse in trame.css).
for (const adresse of document.querySelectorAll('[data-adresse]')) {
  adresse.textContent = location.origin + location.pathname;
}
// …and the address of its PDF map sheet (in the sources), when the site has them.
for (const lien of document.querySelectorAll('a[data-adresse-pdf]')) lien.textContent = lien.href;

for (const conteneur of document.querySelectorAll('.recherche[data-index]')) activer(conteneur);
