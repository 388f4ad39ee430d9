"""Follow-up questions: resolve a question that leans on the previous turn before retrieval.

A question *leans on the previous turn* when (checked in this order):

1. it is an ellipsis that names a new element for the previous question ("那B200呢？", "B200呢？",
   "What about the B200?", "And B200?"): the previous question is asked again about it;
2. it refers back with a pronoun or a demonstrative (它, 它们, 其, 这个, 这项技术, 该, 此, this,
   it, its, they, these …): the reference is replaced by the previous topic;
3. it has no topic of its own: every content word is an *aspect* word (优势, 原理, 作用, advantages,
   purpose …) or there is none ("有什么优势？", "为什么？", "What are the advantages?"): the
   previous topic is put in front (or after "of").

Anything else is a new topic and starts fresh: the question is answered as typed. Questions about
the document itself ("这篇文章的来源", "this report") never lean on the previous turn.

The *topic* of a question is its first noun phrase, the subject in Chinese topic-comment order
("刷掌支付" in "刷掌支付用到了哪些生物特征？"), the possessor in "X的Y" / "the Y of X"; a phrase
right after a question word is what is asked for (哪些生物特征), not the topic. Chinese is
segmented with the background dictionary (`lexical.Background`, jieba's word frequencies) and
the corpus vocabulary, so the rules hold for any document.

Without a previous turn, a question whose only subject is a pronoun ("它有什么优势？") cannot be
understood: `Resolution.unresolved` is set and the answer stage refuses it with a hint.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .lexical import STOPWORDS, Background, english_stems, has_cjk

#: Words that ask about a property of something rather than name a topic (closed class, like
#: stop words): a question made only of these (and function words) has no topic of its own.
ASPECT_WORDS_ZH = frozenset(
    "优势 优点 好处 长处 缺点 劣势 不足 弊端 短板 风险 挑战 问题 难点 难题 特点 特征 特色 特性 作用 功能 "
    "用途 用处 应用 场景 应用场景 意义 价值 目的 目标 原因 原理 机制 定义 含义 意思 概念 内容 例子 案例 "
    "区别 差异 不同 影响 前景 现状 历史 由来 起源 成本 费用 价格 规模 效果 效率 表现 方法 方式 途径 "
    "措施 步骤 流程 过程 要求 条件 标准 类型 种类 分类 组成 构成 结构 环节 领域 范围 核心 关键 重点 "
    "难度 创新 创新点 英文 全称 缩写 名称 数据 情况 细节 详细 详情 更多 其他 其它 别的 怎么样 好 "
    "作用于 好在 区别于 发展 趋势 未来 前途 局限 局限性 瓶颈 举例 比如 例如 说说 介绍 解释 讲讲 具体 "
    "特别 最大 主要是 哪儿 为啥 干什么 做什么 用来 还有 然后 接下来 另外 此外 是 有 能 会 哪 哪里 呢 吗".split()
)
ASPECT_STEMS_EN = frozenset(english_stems(
    "advantage advantages benefit benefits disadvantage drawback downside downsides weakness strength "
    "risk risks challenge challenges problem problems issue issues feature features characteristic "
    "characteristics purpose goal aim use uses usage application applications role function meaning "
    "definition reason reasons cause example examples difference differences impact effect effects "
    "future history origin cost price size scale type types kind kinds component components part parts "
    "step steps process requirement requirements detail details more else other main key core common "
    "work works used mean stand full name called explain tell describe pros cons good bad why "
    "important importance trend trends limitation limitations help helps offer offers bring brings "
    "like look"
))
#: Class nouns a demonstrative points back with ("这项技术", "该模式"): the noun says only what
#: kind of thing the earlier topic is. Any other noun after a demonstrative names the referent.
GENERIC_NOUNS_ZH = frozenset(
    "技术 行业 领域 方式 方法 办法 手段 模式 产品 服务 项目 工程 系统 平台 概念 理念 政策 规定 制度 标准 "
    "方案 措施 工具 机构 公司 企业 组织 单位 部门 市场 业务 模型 算法 设备 装置 材料 指标 趋势 现象 问题 "
    "计划 战略 举措 应用 场景 路线 路径 方向 阶段 过程 流程 群体 人群 地区 地方 城市 国家 产业 行为 东西 "
    "事 事情 情况 内容 数据 结果 结论 观点 说法 名词 术语 缩写 技术路线 形式 类型 种类".split()
)
#: Words naming the document itself: a question about it is never a follow-up on a topic.
_DOCUMENT_WORDS = re.compile(r"文章|本文|文中|全文|原文|报告|文件|资料|文档|作者|标题|来源|出处|这篇|这份|本书|白皮书"
                             r"|\b(?:article|document|report|text|paper|author|source|title)s?\b", re.I)

_DOCUMENT_DEMONSTRATIVE = re.compile(r"[这那该此本](?:[篇份本部])?(?=文章|报告|文件|资料|文档|白皮书|书)|[这那该此本][篇份]"
                                     r"|\b(?:this|that|the)\s+(?:article|document|report|text|paper)\b", re.I)
_END = "？?！!。．.，,；;：: \t"
_LEAD_ZH = re.compile(r"^(?:请问|那么|那|好的|好|嗯|哦|还有|另外|此外|关于这个|然后)[，,、 ]*")
_LEAD_EN = re.compile(r"^(?:and|so|ok(?:ay)?|then|also|well|now)\b[, ]*", re.I)

# Ellipsis: "那X呢？" / "X呢？" (X short, no question word); "What/How about X?" / "And X?".
_ELLIPSIS_ZH = re.compile(r"^(?:那么?|还有|那如果|如果是)?[，, ]*(?P<x>[^？?，,。]{1,20}?)(?:的话)?呢[？?。!！]*$")
_ELLIPSIS_EN = re.compile(r"^(?:and\s+|so\s+|ok(?:ay)?,?\s+)?(?:what|how)\s+about\s+(?P<x>.+?)\s*[?.!]*$"
                          r"|^and\s+(?P<y>[^?]+?)\s*\?$", re.I)
_QUESTION_WORD_ZH = re.compile("什么|哪|如何|怎么|怎样|为什么|为何|是否|多少|几|谁|吗")

# References. Chinese: personal pronouns, 其 (not in 其他/其实/尤其 …), demonstrative + classifier
# (+ the noun it modifies, up to a boundary), 该/此 (not in 应该/因此 …). English: pronouns and
# demonstratives.
_CLASSIFIERS = "个些种项类家位款样一条次所座台部门"
_REFERENCE_ZH = re.compile(
    r"(?<!其)(?:它们的|它的|它们|它|他们的|她们的|他们|她们|他的|她的|他|她)(?![人者])"
    r"|其中|(?<![尤极与及何])其(?![他它实余次])"
    rf"|(?:这|那)(?:[{_CLASSIFIERS}]|(?=[是有能会还又都也]))"
    r"|(?<![应活])该(?=[\u3400-\u9fff])|(?<![因如彼从在为])此(?![外后前时刻])(?=[\u3400-\u9fff])|上述|前者|后者")
# Case matters: "IT" is a word, "it" a pronoun.
_REFERENCE_EN = re.compile(
    r"\b(?P<poss>[Ii]ts|[Tt]heir|[Hh]is|[Hh]er)\b"
    r"|\b(?P<dem>[Tt]his|[Tt]hese|[Tt]hose)\b(?:\s+(?P<noun>[a-z][\w-]*))?"
    r"|\b(?P<pro>[Ii]t|[Tt]hey|[Tt]hem|[Hh]e|[Ss]he|[Hh]im)\b"
    r"|\b[Tt]hat\b(?=\s*(?:[?.!]|$|\b(?:is|was|does|do|did|has|mean|means|work|works|cost|costs)\b))")
#: "it" that points at nothing: "how long does it take", "is it true that".
_DUMMY_IT = re.compile(r"\bit\s+(?:takes?|took|is (?:possible|true|necessary|said|expected))\b|\bis it (?:true|possible)\b",
                       re.I)
_EN_AUX = r"is|are|was|were|does|do|did|can|could|will|would|should|has|have|had"
_EN_BE_QUESTION = re.compile(r"^(?:what|which|who)\s+(?:is|are|was|were)\s+(?P<np>.+)$", re.I)
_EN_AUX_QUESTION = re.compile(rf"^(?:what|which|how|why|when|where|who)\b.*?\b(?P<aux>{_EN_AUX})\s+(?P<rest>.+)$",
                              re.I)
_EN_WORD = re.compile(r"[A-Za-z0-9](?:[\w+\-']|\.(?=\w))*")
_EN_BREAK = frozenset("to for of in on at by with from about into than that which who whom whose when "
                      "where as if because over under".split())
_ARTICLES = re.compile(r"^(?:the|a|an)\s+", re.I)

# Chinese words that end a topic phrase: predicates, function words, question words.
_BOUNDARY_ZH = frozenset(
    "是 有 的 了 用 用到 用了 在 对 把 被 将 能 能够 可以 可 会 要 需要 需 包括 包含 属于 指 是指 指的是 由 "
    "通过 采用 使用 主要 提出 给出 如何 为 为了 成为 具有 具备 涉及 面临 实现 利用 借助 依靠 基于 还 也 都 "
    "又 就 才 中 里 上 下 之 等 呢 吗 么 到 从 给 让 使 于 做 来 去 说 讲 叫 称 称为 达到 占 约 大约 一共 "
    "总共 目前 现在 如今 已经 曾 最 更 比 较 跟 向 往 以 及 或 通常 一般 往往 常 常常 经常 已 正在 可能 "
    "大多 多 普遍 分别 各 共 一直 始终 仍 仍然 率先 首先 最早".split()
)
_LEAD_WORDS_ZH = frozenset("请问 那么 那 关于 对于 文中 文章 本文 说说 介绍 介绍一下 一下 讲讲 请 告诉 我 想 知道".split())
_LONGEST_WORD = 8


@dataclass(frozen=True)
class Resolution:
    """A question resolved against the conversation.

    `question` is what retrieval and the answer stage use; `understood_as` is set only when it
    differs from what was typed. `kind` is "standalone", "ellipsis", "reference" or "no_topic";
    `unresolved` holds the reference word when the question leans on a previous turn that does
    not exist (the caller refuses it with a hint).
    """

    question: str
    understood_as: str | None = None
    kind: str = "standalone"
    topic: str | None = None
    unresolved: str | None = None


class Segmenter:
    """Full-cover word segmentation (every character in some word) of questions, by jieba's word
    frequencies (`lexical.Background`) plus the corpus vocabulary; without a background table,
    words of the vocabulary only (longest match), others one character each."""

    def __init__(self, background: Background | None = None, vocabulary: Iterable[str] = ()):
        self.table = background.table if background is not None else {}
        self.floor = background.min_log_freq if background is not None else -20.0
        self.vocabulary = frozenset(vocabulary)

    def run(self, run: str) -> list[str]:
        """The most probable segmentation of a run of Chinese characters (jieba's method)."""
        best: list[tuple[float, int]] = [(0.0, 0)] * (len(run) + 1)
        for i in range(len(run) - 1, -1, -1):
            options = []
            for size in range(1, min(_LONGEST_WORD, len(run) - i) + 1):
                word = run[i:i + size]
                entry = self.table.get(word)
                if entry is not None:
                    options.append((entry[2] + best[i + size][0], size))
                elif size > 1 and word in self.vocabulary:
                    options.append((self.floor + 2 + best[i + size][0], size))
            options.append((self.floor + best[i + 1][0], 1))
            best[i] = max(options)
        words, i = [], 0
        while i < len(run):
            words.append(run[i:i + best[i][1]])
            i += best[i][1]
        return words

    def words(self, text: str) -> list[tuple[str, int]]:
        """(word, start offset) for every word of `text`: Chinese runs segmented, Latin words and
        numbers whole, anything else (punctuation, spaces) one character each."""
        out, i = [], 0
        for match in re.finditer(r"[\u3400-\u9fff]+|[A-Za-z0-9][\w.+\-]*[A-Za-z0-9+]|[A-Za-z0-9]|\S", text):
            i = match.start()
            if has_cjk(match.group()):
                for word in self.run(match.group()):
                    out.append((word, i))
                    i += len(word)
            else:
                out.append((match.group(), i))
        return out


def _strip_end(text: str) -> str:
    return text.strip().rstrip(_END)


def _is_aspect_zh(word: str) -> bool:
    return word in ASPECT_WORDS_ZH or word in STOPWORDS or bool(_QUESTION_WORD_ZH.search(word))


def own_terms(question: str, segmenter: Segmenter) -> list[str]:
    """The question's own topic words: content words that are neither function words, question
    words, aspect words (优势, advantages) nor references (它, this)."""
    if has_cjk(question):
        text = _REFERENCE_ZH.sub(" ", question)
        words = [w for w, _ in segmenter.words(text) if re.match(r"[\u3400-\u9fffA-Za-z0-9]", w)]
        return [w for w in words if not _is_aspect_zh(w) and w not in _BOUNDARY_ZH
                and (len(w) > 1 or not has_cjk(w))]
    text = _REFERENCE_EN.sub(" ", question)
    return [s for s in english_stems(text) if s not in ASPECT_STEMS_EN and s not in english_stems(_EN_AUX)]


def _about_document(question: str) -> bool:
    return bool(_DOCUMENT_WORDS.search(question))


def topic_of(question: str, segmenter: Segmenter) -> str | None:
    """The topic of a (resolved) question: its first noun phrase that is not what is asked for,
    or None when it has none."""
    question = _strip_end(question)
    if not question:
        return None
    if has_cjk(question):
        return _topic_zh(question, segmenter)
    return _topic_en(question)


def _topic_zh(question: str, segmenter: Segmenter) -> str | None:
    question = _LEAD_ZH.sub("", question)
    words = segmenter.words(question)
    # Runs of non-boundary words (a word after a question word starts the "focus": skipped).
    runs: list[tuple[int, int, bool]] = []  # (start, end, right after a question word)
    start = end = None
    after_question = False
    previous_boundary = ""
    for word, offset in words:
        boundary = (word in _BOUNDARY_ZH or word in _LEAD_WORDS_ZH or bool(_QUESTION_WORD_ZH.search(word))
                    or not re.match(r"[\u3400-\u9fffA-Za-z0-9]", word))
        if boundary:
            if start is not None:
                runs.append((start, end, after_question))
                start = None
            after_question = bool(_QUESTION_WORD_ZH.search(word)) or (after_question and word in "个种类项家位条款")
            previous_boundary = word
            continue
        if start is None:
            start = offset
            after_question = after_question and previous_boundary != "是"
        end = offset + len(word)
    if start is not None:
        runs.append((start, end, after_question))
    for begin, stop, is_focus in runs:
        phrase = question[begin:stop]
        if is_focus or not own_terms(phrase, segmenter):
            continue
        return phrase
    return None


def _topic_en(question: str) -> str | None:
    question = _LEAD_EN.sub("", question)
    be = _EN_BE_QUESTION.match(question)
    if be:
        phrase = be.group("np")
        phrase = re.split(r"\b(?:that|which|who|used|mentioned|described|about|in the (?:article|document|text))\b",
                          phrase, maxsplit=1, flags=re.I)[0]
        if re.search(r"\bof\b", phrase):
            phrase = re.split(r"\bof\b", phrase, flags=re.I)[-1]
        phrase = _ARTICLES.sub("", phrase.strip()).strip()
        return phrase if english_stems(phrase) else None
    aux = _EN_AUX_QUESTION.match(question)
    if aux:
        rest = aux.group("rest")
        words = list(_EN_WORD.finditer(rest))
        run = []
        for word in words:
            if word.group().lower() in _EN_BREAK:
                break
            run.append(word)
        reached_end = len(run) == len(words)
        if run and run[0].group().lower() in ("the", "a", "an"):
            run = run[1:]
        # Do-support puts the verb after the subject ("does palm payment use"), with its object
        # when the run goes on ("does DRG implementation require organizations to ...").
        drop = 1 if reached_end and len(run) <= 3 else 2 if len(run) >= 3 else 1
        if aux.group("aux").lower() in ("is", "are", "was", "were"):
            # A copula has no verb after its subject, or a participle ("How is DRG implemented").
            drop = 1 if run and re.search(r"(?:ed|en)$", run[-1].group()) else 0
        run = run[:max(1, len(run) - drop)] if len(run) > 1 else run
        phrase = rest[run[0].start():run[-1].end()] if run else ""
        if phrase and english_stems(phrase):
            return phrase
    # No subject found ("How many drones were there"): the longest run of content words after
    # the question word.
    best: list[re.Match] = []
    current: list[re.Match] = []
    for word in list(_EN_WORD.finditer(question))[1:] + [None]:  # the first word is the question word
        if word is None or word.group().lower() in STOPWORDS or word.group().lower() in _EN_BREAK:
            if len(current) > len(best):
                best = current
            current = []
        else:
            current.append(word)
    return question[best[0].start():best[-1].end()] if best else None


def previous_topic(history: Sequence[str], segmenter: Segmenter) -> tuple[str | None, str | None]:
    """The most recent (question, topic) of the history that has a topic, else (None, None)."""
    for question in reversed(history):
        if not question or not question.strip():
            continue
        topic = topic_of(question, segmenter)
        if topic:
            return question, topic
    return None, None


def find_reference(question: str, segmenter: Segmenter | None = None) -> re.Match | None:
    """The first pronoun or demonstrative of `question` that points back to an earlier turn, or
    None. One with an antecedent earlier in the question itself ("生成式AI…，它能做什么",
    "abolish its exemption" after "the United States") does not, nor does a demonstrative whose
    noun phrase names its referent ("那座1:1打印的洞窟复制品"), nor a dummy "it" ("does it take")."""
    segmenter = segmenter or Segmenter()
    zh = has_cjk(question)
    for match in (_REFERENCE_ZH if zh else _REFERENCE_EN).finditer(question):
        if _antecedent_before(question, match, segmenter):
            continue
        if not zh and match.group("pro") and _DUMMY_IT.search(question[max(0, match.start() - 8):match.end() + 20]):
            continue
        if zh and match.group()[0] in "这那该此" and _noun_after(question[match.end():], segmenter) is None:
            continue
        return match
    return None


def _antecedent_before(question: str, match: re.Match, segmenter: Segmenter) -> bool:
    """Whether the reference at `match` has an antecedent earlier in the question: a previous
    clause with topic words of its own ("生成式AI属于什么类型的技术，它能做什么"), a noun right
    before a demonstrative or a relative clause ending in 的 ("跨境电商这个概念", "牵头的那个平台"),
    or, in English, a name before it ("did the United States abolish its exemption")."""
    before = question[:match.start()]
    clauses = re.split(r"[，,；;。:：]", before)
    if len(clauses) > 1 and own_terms("".join(clauses[:-1]), segmenter):
        return True
    if has_cjk(question):
        return bool(match.group()[0] in "这那" and before and re.search(r"[\u3400-\u9fffA-Za-z0-9]$", before)
                    and own_terms(before, segmenter))
    return bool(re.search(r"(?<!^)\b(?:[A-Z][a-z]+|[A-Z0-9]{2,}[a-z]?)\b", before.strip()))


def _noun_after(text: str, segmenter: Segmenter) -> list[str] | None:
    """What a Chinese demonstrative at the start of `text` modifies: [] when nothing (它/这 used
    alone: "这是什么"), [word] for a generic class noun ("这项技术"), None when the words after it
    name the referent themselves ("那座1:1打印的洞窟复制品")."""
    words = segmenter.words(text)
    if not words:
        return []
    first = words[0][0]
    if first in GENERIC_NOUNS_ZH:
        return [first]
    if (first in _BOUNDARY_ZH or _QUESTION_WORD_ZH.search(first) or first in ASPECT_WORDS_ZH
            or not re.match(r"[\u3400-\u9fffA-Za-z0-9]", first)):
        return []
    return None


def _replace_zh(question: str, match: re.Match, topic: str, segmenter: Segmenter) -> str:
    word, head, tail = match.group(), question[:match.start()], question[match.end():]
    if word == "其中":
        return head + topic + "中" + tail
    if word.endswith("的") or word == "其":
        return head + topic + "的" + tail.removeprefix("的")
    if word[0] in "这那该此":
        # The noun the demonstrative modifies goes with it ("这项技术" -> the topic).
        tail = tail[sum(len(w) for w in _noun_after(tail, segmenter) or []):]
    return head + topic + tail


def _replace_en(question: str, match: re.Match, topic: str) -> str:
    head, tail = question[:match.start()], question[match.end():]
    if match.group("poss"):
        return f"{head}{topic}'{'' if topic.endswith('s') else 's'}{tail}"
    noun = match.group("dem") and match.group("noun")
    if noun and noun.lower() in _EN_BREAK | set(_EN_AUX.split("|")):
        return f"{head}{topic} {noun}{tail}"
    return f"{head}{topic}{tail}"


def _prepend_zh(question: str, topic: str) -> str:
    body = _LEAD_ZH.sub("", question.strip())
    if re.match("|".join(sorted(ASPECT_WORDS_ZH - {"是", "有", "能", "会", "哪", "哪里", "呢", "吗"}, key=len, reverse=True)),
                body):
        return f"{topic}的{body}"
    return f"{topic}{body}"


def _prepend_en(question: str, topic: str) -> str:
    body = _LEAD_EN.sub("", question.strip())
    body = body[:1].upper() + body[1:]
    aspect = re.search(r"\b(?:the|its|main|key)\s+(?:\w+\s+)?(?P<w>\w+)\b", body, re.I)
    if aspect and english_stems(aspect.group("w")) and english_stems(aspect.group("w"))[0] in ASPECT_STEMS_EN:
        return body[:aspect.end()] + f" of {topic}" + body[aspect.end():]
    return f"Regarding {topic}: {body}"


def resolve(question: str, history: Sequence[str] = (), segmenter: Segmenter | None = None) -> Resolution:
    """Resolve `question` against `history` (the previous questions as understood, oldest first).

    See the module docstring for what counts as leaning on the previous turn.
    """
    segmenter = segmenter or Segmenter()
    question = question.strip()
    zh = has_cjk(question)
    previous, topic = previous_topic(history, segmenter)
    # "这篇文章" / "this report" point at the document, not at the previous topic.
    masked = _DOCUMENT_DEMONSTRATIVE.sub(lambda m: "文" * len(m.group()) if zh else "document".ljust(len(m.group())),
                                         question)
    match = find_reference(masked, segmenter)
    reference = match.group().strip() if match else None
    about_document = _about_document(question)

    ellipsis = (_ELLIPSIS_ZH if zh else _ELLIPSIS_EN).match(question)
    if ellipsis and previous:
        element = _strip_end(ellipsis.group("x") or (ellipsis.groupdict().get("y") or ""))
        element = _ARTICLES.sub("", element) if not zh else element
        if element and not _QUESTION_WORD_ZH.search(element) and not find_reference(element, segmenter):
            if not own_terms(element, segmenter):  # "那优势呢？": an aspect of the same topic
                resolved = f"{topic}的{element}是什么？" if zh else f"What about the {element} of {topic}?"
            else:
                resolved = previous.replace(topic, element, 1)
            return _done(question, resolved, "ellipsis", element)

    if reference:
        if topic:
            resolved = _replace_zh(question, match, topic, segmenter) if zh else _replace_en(question, match, topic)
            resolved = _LEAD_ZH.sub("", resolved) if zh else _LEAD_EN.sub("", resolved)
            if not zh:
                resolved = resolved[:1].upper() + resolved[1:]
            return _done(question, resolved, "reference", topic)
        if not own_terms(question, segmenter) and not about_document:
            return Resolution(question, kind="reference", unresolved=reference)
        return Resolution(question)

    if topic and not own_terms(question, segmenter) and not about_document:
        resolved = _prepend_zh(question, topic) if zh else _prepend_en(question, topic)
        return _done(question, resolved, "no_topic", topic)
    return Resolution(question)


def _done(typed: str, resolved: str, kind: str, topic: str) -> Resolution:
    resolved = resolved.strip()
    if resolved == typed:
        return Resolution(typed, kind=kind, topic=topic)
    return Resolution(resolved, resolved, kind, topic)


def understood_label(typed: str) -> str:
    """How interfaces introduce `Answer.understood_as`, in the language of the typed question."""
    return "按上文理解为：" if has_cjk(typed) else "Understood as: "


def unresolved_message(question: str, reference: str) -> str:
    """The refusal of a question whose only subject is a pronoun, with a hint."""
    if has_cjk(question):
        example = _REFERENCE_ZH.sub("（名称）", question, count=1)
        return f"这个问题指代不明：请说出“{reference}”所指的对象，例如：{example}"
    example = _REFERENCE_EN.sub("(name)", question, count=1)
    return f"This question does not say what “{reference}” refers to: please name it, e.g. {example}"
