"""The chat page's style sheet and scripts (plain strings handed to Gradio).

Gradio evaluates the scripts as code, so they hold no backticks and no "${"; they only read and
move text the server already escaped, and put the documents panel's server-built HTML in place.
"""

# Colours meet WCAG AA (>= 4.5:1) on white: #4a4f57 is 8:1, #1d4ed8 6.7:1; marks are #1f1f1f on #ffe08a.
PAGE_CSS = """
.rag-chat, .rag-sources, .rag-docs { font-size: 0.97em; line-height: 1.6; color: var(--body-text-color); }
.rag-h { font-size: 1.1em; margin: 0 0 6px; }
.rag-muted, .rag-empty, .rag-status, .rag-more, .rag-who, .rag-why, .rag-understood, .rag-turn-no { color: #4a4f57; }
.dark .rag-muted, .dark .rag-empty, .dark .rag-status, .dark .rag-more, .dark .rag-who, .dark .rag-why,
.dark .rag-understood, .dark .rag-turn-no { color: #c9ced6; }
.rag-turn { margin: 0 0 14px; }
.rag-index-status { margin: 0; color: #4a4f57; font-size: 0.92em; }
.dark .rag-index-status { color: #c9ced6; }
.rag-index-status[data-state="failed"], .rag-refused, .rag-problems { color: #b42318; }
.dark .rag-index-status[data-state="failed"], .dark .rag-refused, .dark .rag-problems { color: #ffa8a0; }
.rag-upload-result p { margin: 2px 0; }
.rag-problems { margin: 2px 0; padding-left: 1.2em; overflow-wrap: anywhere; }
.rag-msg { border-radius: 10px; padding: 8px 12px; margin: 0 0 6px; overflow-wrap: anywhere; }
.rag-user { background: var(--background-fill-secondary); margin-left: 12%; }
.rag-bot { border: 1px solid var(--border-color-primary); margin-right: 6%; }
.rag-who { display: block; font-size: 0.8em; font-weight: 600; }
.rag-q, .rag-quote, .rag-notfound { margin: 2px 0; }
.rag-understood { font-style: italic; margin: 0 0 4px; }
.rag-cite-link, .rag-jump, .rag-back, .rag-linkish, .rag-original {
  color: #1d4ed8; font-weight: 600; text-decoration: underline;
}
.dark .rag-cite-link, .dark .rag-jump, .dark .rag-back, .dark .rag-linkish, .dark .rag-original { color: #93b4ff; }
.rag-cite-link { padding: 0 2px; }
.rag-linkish { background: none; border: 0; box-shadow: none; padding: 0; cursor: pointer; font: inherit; text-align: left; }
.rag-tools, .rag-card-tools { margin-top: 6px; display: flex; gap: 12px; flex-wrap: wrap; align-items: center; }
.rag-copy, .rag-download, .rag-suggest { border: 1px solid #1d4ed8; color: #1d4ed8; background: var(--background-fill-primary);
    border-radius: 6px; padding: 2px 10px; cursor: pointer; font: inherit; }
.rag-download { margin-top: 4px; }
.rag-suggestions { margin: 4px 0; padding-left: 1.2em; }
.rag-suggestions li { margin: 4px 0; }
.rag-group { margin: 0 0 10px; }
.rag-group > summary { cursor: pointer; font-weight: 600; overflow-wrap: anywhere; }
.rag-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px; margin: 8px 0;
    background: var(--background-fill-primary); scroll-margin: 80px; }
.rag-abstained .rag-card { border-style: dashed; }
.rag-where { font-weight: 600; overflow-wrap: anywhere; }
.rag-passage { white-space: pre-wrap; overflow-wrap: anywhere; margin: 6px 0 0; }
.rag-passage mark { background: #ffe08a; color: #1f1f1f; padding: 0 1px; border-radius: 2px; }
.rag-quote mark.rag-answer { background: #ffe08a; color: #1f1f1f; padding: 0 1px; border-radius: 2px; font-weight: 600; }
.rag-span { margin: 2px 0 4px; font-size: 1.05em; }
.rag-cite { color: #1d4ed8; font-weight: 600; }
.dark .rag-cite { color: #93b4ff; }
mark.rag-flash { outline: 3px solid #d97706; animation: rag-flash 0.5s ease-in-out 3; }
@keyframes rag-flash { 50% { background: #fbbf24; } }
@media (prefers-reduced-motion: reduce) { mark.rag-flash { animation: none; } }
.rag-card:focus, .rag-view-title:focus, #rag-docs-top:focus { outline: 3px solid #1d4ed8; outline-offset: 2px; }
.rag-rel { display: flex; align-items: center; gap: 8px; margin: 4px 0; flex-wrap: wrap; }
.rag-bar { position: relative; display: inline-block; width: 120px; height: 10px; border-radius: 5px;
    background: #d9dde3; border: 1px solid #6b7280; }
.rag-bar-fill { position: absolute; left: 0; top: 0; bottom: 0; background: #2563eb; border-radius: 5px; }
.rag-bar-cut { position: absolute; top: -3px; bottom: -3px; width: 2px; background: #111827; }
.rag-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.rag-more ul { margin: 4px 0; padding-left: 1.2em; font-size: 0.9em; }
.rag-outline { list-style: none; padding-left: 0.4em; margin: 4px 0; }
.rag-outline li { margin: 2px 0; }
.rag-doc > summary { cursor: pointer; font-weight: 600; }
.rag-view { border-top: 2px solid var(--border-color-primary); margin-top: 10px; padding-top: 8px; }
.rag-view-title { font-size: 1em; margin: 0 0 4px; }
footer .show-api, footer .settings, footer .record, footer .divider { color: #4a4f57 !important; }
.dark footer .show-api, .dark footer .settings { color: #c9ced6 !important; }
.rag-nearest { font-size: 1em; margin: 6px 0 2px; }
"""

# Runs once when the conversation panel loads. Event delegation on the document, so it keeps
# working when Gradio re-renders the panels' HTML. Gradio evaluates it as code: no backticks.
PAGE_JS = """
if (!window.ragWired) {
  window.ragWired = true;
  const go = (id, n) => {
    const target = document.getElementById(id);
    if (!target) return;
    let fold = target.closest('details');
    while (fold) { fold.open = true; fold = fold.parentElement && fold.parentElement.closest('details'); }
    const card = target.classList.contains('rag-anchor') ? target.closest('.rag-card') : target;
    card.scrollIntoView({block: 'center'});
    card.focus({preventScroll: true});
    if (n) card.querySelectorAll('mark[data-n="' + n + '"]').forEach((m) => {
      m.classList.remove('rag-flash'); void m.offsetWidth; m.classList.add('rag-flash');
      setTimeout(() => m.classList.remove('rag-flash'), 2500);
    });
  };
  const copyText = async (text) => {
    try { await navigator.clipboard.writeText(text); return; } catch (e) { /* not a secure context: fall back */ }
    const area = document.createElement('textarea');
    area.value = text; area.setAttribute('readonly', ''); area.style.position = 'fixed'; area.style.opacity = '0';
    document.body.appendChild(area); area.select(); document.execCommand('copy'); area.remove();
  };
  window.ragAsk = (text) => {
    const box = document.querySelector('#rag-question textarea');
    box.value = text;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => document.querySelector('#rag-send').click(), 50);
  };
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a.rag-cite-link, a.rag-jump, a.rag-back');
    if (link) { event.preventDefault(); go(link.getAttribute('href').slice(1), link.dataset.n); return; }
    const copy = event.target.closest('button.rag-copy');
    if (copy) {
      copyText(copy.dataset.copy).then(() => {
        const label = copy.textContent; copy.textContent = copy.dataset.copied;
        setTimeout(() => { copy.textContent = label; }, 1500);
      });
      return;
    }
    const suggest = event.target.closest('button.rag-suggest');
    if (suggest) { window.ragAsk(suggest.dataset.ask); return; }
    const open = event.target.closest('button.rag-open');
    if (open && window.ragOpen) { window.ragOpen(open.dataset); return; }
    const close = event.target.closest('button.rag-close');
    if (close) { const view = close.closest('.rag-view'); view.hidden = true; view.innerHTML = ''; return; }
    const download = event.target.closest('button.rag-download');
    if (download) {
      const turns = Array.from(document.querySelectorAll('#rag-chat article[data-md]')).map((a) => a.dataset.md);
      const text = '# ' + download.dataset.heading + ' · ' + download.dataset.title + '\\n\\n' + turns.join('');
      const url = URL.createObjectURL(new Blob([text], {type: 'text/markdown;charset=utf-8'}));
      const a = document.createElement('a'); a.href = url; a.download = 'conversation.md';
      document.body.appendChild(a); a.click(); a.remove(); setTimeout(() => URL.revokeObjectURL(url), 1000);
    }
  });
}
const setLang = () => {
  const root = element.querySelector('[data-lang]');
  if (root && root.dataset.lang) document.documentElement.lang = root.dataset.lang;
};
watch('value', setLang);
"""

# The page's heading: the browser tab's title follows it when a new index brings a new title.
TITLE_JS = """
const syncTitle = () => {
  const heading = element.querySelector('h1');
  if (heading && heading.textContent) document.title = heading.textContent;
};
watch('value', syncTitle);
"""

# The documents panel: opens a section (from the outline, a citation card or a suggestion).
DOCS_JS = """
window.ragOpen = async (data) => {
  const view = element.querySelector('.rag-view');
  if (!view) return;
  const html = await server.open_section({doc: data.doc, sec: data.sec || '-1', start: data.start || '-1',
                                          end: data.end || '-1', n: data.n || '0', lang: data.lang || ''});
  if (!html) return;
  view.innerHTML = html;
  view.hidden = false;
  const mark = view.querySelector('mark');
  const title = view.querySelector('.rag-view-title');
  (mark || title).scrollIntoView({block: mark ? 'center' : 'start'});
  title.focus({preventScroll: true});
  if (mark) { mark.classList.add('rag-flash'); setTimeout(() => mark.classList.remove('rag-flash'), 2500); }
};
"""
