"""The chat page's style sheet and scripts (plain strings handed to Gradio).

Gradio evaluates the scripts as code, so they hold no backticks and no "${"; they only read and
move text the server already escaped, and put the documents panel's server-built HTML in place.
"""

import re

# Colours meet WCAG AA (>= 4.5:1) on white: #4a4f57 is 8:1, #1d4ed8 6.7:1; marks are #1f1f1f on #ffe08a.
# In dark mode (#0b0f19 behind): #c9ced6 is 12:1, #93b4ff 8.7:1.
_PAGE_CSS = """
.rag-chat, .rag-sources, .rag-docs { font-size: 0.97em; line-height: 1.6; color: var(--body-text-color); }
.rag-h { font-size: 1.1em; margin: 0 0 6px; }
.rag-muted, .rag-empty, .rag-status, .rag-more, .rag-who, .rag-why, .rag-understood, .rag-note, .rag-turn-no { color: #4a4f57; }
.dark .rag-muted, .dark .rag-empty, .dark .rag-status, .dark .rag-more, .dark .rag-who, .dark .rag-why,
.dark .rag-understood, .dark .rag-note, .dark .rag-turn-no { color: #c9ced6; }
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
.rag-understood, .rag-note { font-style: italic; margin: 0 0 4px; }
.rag-doc-title { font-weight: 600; }
.rag-cite-link, .rag-jump, .rag-back, .rag-linkish, .rag-original {
  color: #1d4ed8; font-weight: 600; text-decoration: underline;
}
.dark .rag-cite-link, .dark .rag-jump, .dark .rag-back, .dark .rag-linkish, .dark .rag-original { color: #93b4ff; }
.rag-cite-link { padding: 0 2px; }
.rag-linkish { background: none; border: 0; box-shadow: none; padding: 0; cursor: pointer; font: inherit; text-align: left; }
.rag-tools, .rag-card-tools { margin-top: 6px; display: flex; gap: 12px; flex-wrap: wrap; align-items: center; }
.rag-copy, .rag-download, .rag-suggest { border: 1px solid #1d4ed8; color: #1d4ed8; background: var(--background-fill-primary);
    border-radius: 6px; padding: 2px 10px; cursor: pointer; font: inherit; }
.dark .rag-copy, .dark .rag-download, .dark .rag-suggest { border-color: #93b4ff; color: #93b4ff; }
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
.rag-quote .rag-columns { display: block; font-size: 0.85em; color: #4a4a4a; }
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
@media (max-width: 640px) {
  #rag-title h1 { font-size: 1.15em; margin: 0; }
  #rag-intro { font-size: 0.85em; line-height: 1.35; }
  #rag-intro p { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; margin: 0; }
  .rag-index-status { font-size: 0.8em; }
}
"""


def one_selector_per_rule(css: str) -> str:
    """`css` with every top-level rule that lists several selectors written as one rule per
    selector (at-rules such as @media and @keyframes are kept as they are).

    Gradio scopes an app's CSS to its container by rewriting each rule's selector, and of a
    comma list it rewrites only the first selector correctly: `.dark .a, .dark .b { … }` left
    `.dark .b` unscoped, so the light rule won and dark mode showed #1d4ed8 on #0b0f19 (2.85:1)."""
    out, depth, start = [], 0, 0
    for match in re.finditer(r"[{}]", css):
        if match.group() == "{":
            depth += 1
            continue
        depth -= 1
        if depth:
            continue
        rule, start = css[start:match.end()], match.end()
        head, _, body = rule.partition("{")
        head = head.strip()
        if head.startswith("@") or "," not in head:
            out.append(rule.strip())
        else:
            out += [f"{selector.strip()} {{{body}" for selector in head.split(",")]
    return "\n".join(out) + "\n"


PAGE_CSS = one_selector_per_rule(_PAGE_CSS)

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
// The chat scrolls inside its own box: a new turn is brought to the top of that box, and the
// window moves only when the turn would otherwise be out of sight (on a phone, below the fold).
const scroller = (from) => {
  for (let box = from.parentElement; box && box !== document.body; box = box.parentElement) {
    const overflow = getComputedStyle(box).overflowY;
    if ((overflow === 'auto' || overflow === 'scroll') && box.scrollHeight > box.clientHeight + 1) return box;
  }
  return null;
};
// One polite live region outside the re-rendered HTML (a replaced node is not announced):
// it reads out the newest answer or refusal.
const announcer = () => {
  let region = document.getElementById('rag-announce');
  if (!region) {
    region = document.createElement('div');
    region.id = 'rag-announce';
    region.setAttribute('role', 'status');
    region.setAttribute('aria-live', 'polite');
    region.setAttribute('aria-atomic', 'true');
    region.style.cssText = 'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;';
    document.body.appendChild(region);
  }
  return region;
};
const showNewest = () => {
  const turns = element.querySelectorAll('article.rag-turn');
  const count = turns.length;
  const before = Number(element.dataset.ragTurns || '0');
  element.dataset.ragTurns = String(count);
  if (count <= before) return;   // a relabel or start over: nothing new to show
  const newest = turns[count - 1];
  requestAnimationFrame(() => {
    const box = scroller(newest);
    if (box) box.scrollTop += newest.getBoundingClientRect().top - box.getBoundingClientRect().top - 4;
    const top = newest.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 120) window.scrollBy(0, top - 80);
  });
  const bot = newest.querySelector('.rag-bot');
  const read = '.rag-understood, .rag-note, .rag-quote, .rag-notfound, .rag-suggest-title';
  const parts = bot ? Array.from(bot.querySelectorAll(read)).map((node) => node.textContent.trim()) : [];
  const region = announcer();
  region.textContent = '';
  setTimeout(() => { region.textContent = parts.join(' '); }, 150);
};
watch('value', () => { setLang(); showNewest(); });
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

# Sending a question: the box is emptied at once and its text becomes the question asked
# (`page.build_app`'s hidden "sent" box), so typing while the answer is pending is not lost.
SEND_JS = "(question) => ['', question]"
