"""The closed word classes and patterns follow-up resolution reads (aspect words, class nouns,
references, boundaries), and the question segmenter: the language knowledge, apart from the rules."""
from __future__ import annotations

import re
from collections.abc import Iterable

from ..lexical import Background, english_stems, has_cjk

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
DOCUMENT_WORDS = re.compile(r"文章|本文|文中|全文|原文|报告|文件|资料|文档|作者|标题|来源|出处|这篇|这份|本书|白皮书"
                             r"|\b(?:article|document|report|text|paper|author|source|title)s?\b", re.I)

#: English ordinals, as a regular expression's alternatives.
ORDINALS_EN = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"
#: Verbs asking where a document comes from or who wrote it (这篇文章是从哪里转载的？): about the
#: document itself, not a topic that would single one out.
SOURCE_VERBS = re.compile(r"(?:转载|转发|出自|来自|发表|刊登|刊发|撰写|编写)[自于在]?|published|written|wrote", re.I)
#: A word that counts a document's parts rather than naming a document (第二, 部分, 最后, fourth chapter).
PART_WORDS = re.compile(rf"(?:第|最后|后)?[一二三四五六七八九十百\d]*(?:部分|章|节|段|篇)?"
                        rf"|(?:(?:{ORDINALS_EN}|last|\d+)\s*)?(?:sections?|chapters?|parts?|paragraphs?)?", re.I)
DOCUMENT_DEMONSTRATIVE = re.compile(r"[这那该此本](?:[篇份本部])?(?=文章|报告|文件|资料|文档|白皮书|书)|[这那该此本][篇份]"
                                     r"|\b(?:this|that|the)\s+(?:article|document|report|text|paper)\b", re.I)
END = "？?！!。．.，,；;：: \t"
LEAD_ZH = re.compile(r"^(?:请问|那么|那|好的|好|嗯|哦|还有|另外|此外|关于这个|然后)[，,、 ]*")
LEAD_EN = re.compile(r"^(?:and|so|ok(?:ay)?|then|also|well|now)\b[, ]*", re.I)

# Ellipsis: "那X呢？" / "X呢？" (X short, no question word); "What/How about X?" / "And X?".
ELLIPSIS_ZH = re.compile(r"^(?:那么?|还有|那如果|如果是)?[，, ]*(?P<x>[^？?，,。]{1,20}?)(?:的话)?呢[？?。!！]*$")
ELLIPSIS_EN = re.compile(r"^(?:and\s+|so\s+|ok(?:ay)?,?\s+)?(?:what|how)\s+about\s+(?P<x>.+?)\s*[?.!]*$"
                          r"|^and\s+(?P<y>[^?]+?)\s*\?$", re.I)
QUESTION_WORD_ZH = re.compile("什么|哪|如何|怎么|怎样|为什么|为何|是否|多少|几|谁|吗")

# References. Chinese: personal pronouns, 其 (not in 其他/其实/尤其 …), demonstrative + classifier
# (+ the noun it modifies, up to a boundary), 该/此 (not in 应该/因此 …). English: pronouns and
# demonstratives.
CLASSIFIERS = "个些种项类家位款样一条次所座台部门"
REFERENCE_ZH = re.compile(
    r"(?<!其)(?:它们的|它的|它们|它|他们的|她们的|他们|她们|他的|她的|他|她)(?![人者])"
    r"|其中|(?<![尤极与及何])其(?![他它实余次])"
    rf"|(?:这|那)(?:[{CLASSIFIERS}]|(?=[是有能会还又都也]))"
    r"|(?<![应活])该(?=[\u3400-\u9fff])|(?<![因如彼从在为])此(?![外后前时刻])(?=[\u3400-\u9fff])|上述|前者|后者")
# Case matters: "IT" is a word, "it" a pronoun.
REFERENCE_EN = re.compile(
    r"\b(?P<poss>[Ii]ts|[Tt]heir|[Hh]is|[Hh]er)\b"
    r"|\b(?P<dem>[Tt]his|[Tt]hese|[Tt]hose)\b(?:\s+(?P<noun>[a-z][\w-]*))?"
    r"|\b(?P<pro>[Ii]t|[Tt]hey|[Tt]hem|[Hh]e|[Ss]he|[Hh]im)\b"
    r"|\b[Tt]hat\b(?=\s*(?:[?.!]|$|\b(?:is|was|does|do|did|has|mean|means|work|works|cost|costs)\b))")
#: "it" that points at nothing: "how long does it take", "is it true that".
DUMMY_IT = re.compile(r"\bit\s+(?:takes?|took|is (?:possible|true|necessary|said|expected))\b|\bis it (?:true|possible)\b",
                       re.I)
EN_AUX = r"is|are|was|were|does|do|did|can|could|will|would|should|has|have|had"
EN_BE_QUESTION = re.compile(r"^(?:what|which|who)\s+(?:is|are|was|were)\s+(?P<np>.+)$", re.I)
EN_AUX_QUESTION = re.compile(rf"^(?:what|which|how|why|when|where|who)\b.*?\b(?P<aux>{EN_AUX})\s+(?P<rest>.+)$",
                              re.I)
EN_WORD = re.compile(r"[A-Za-z0-9](?:[\w+\-']|\.(?=\w))*")
EN_BREAK = frozenset("to for of in on at by with from about into than that which who whom whose when "
                      "where as if because over under".split())
ARTICLES = re.compile(r"^(?:the|a|an)\s+", re.I)

# Chinese words that end a topic phrase: predicates, function words, question words.
BOUNDARY_ZH = frozenset(
    "是 有 的 了 用 用到 用了 在 对 把 被 将 能 能够 可以 可 会 要 需要 需 包括 包含 属于 指 是指 指的是 由 "
    "通过 采用 使用 主要 提出 给出 如何 为 为了 成为 具有 具备 涉及 面临 实现 利用 借助 依靠 基于 还 也 都 "
    "又 就 才 中 里 上 下 之 等 呢 吗 么 到 从 给 让 使 于 做 来 去 说 讲 叫 称 称为 达到 占 约 大约 一共 "
    "总共 目前 现在 如今 已经 曾 最 更 比 较 跟 向 往 以 及 或 通常 一般 往往 常 常常 经常 已 正在 可能 "
    "大多 多 普遍 分别 各 共 一直 始终 仍 仍然 率先 首先 最早".split()
)
LEAD_WORDS_ZH = frozenset("请问 那么 那 关于 对于 文中 文章 本文 说说 介绍 介绍一下 一下 讲讲 请 告诉 我 想 知道".split())
LONGEST_WORD = 8



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
            for size in range(1, min(LONGEST_WORD, len(run) - i) + 1):
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


#: A numeral right after a word makes it the name of one part ("趋势五", "方向一", "阶段2", "第三章"):
#: a topic of its own even when the word alone is an aspect word (趋势, 阶段).
NUMERAL_ZH = re.compile(r"^[〇零一二三四五六七八九十百千两\d]+$")
NUMBERED_EN = re.compile(rf"\b(?:[A-Za-z]+\s+(?:\d+(?:\.\d+)*|[IVX]+)\b|(?:{ORDINALS_EN})\s+[a-z]+)", re.I)
#: Words that address the assistant itself ("你是谁？", "What can you do?"): such a question is
#: about the assistant, never about the previous turn's topic.
ADDRESSEE_ZH = re.compile(r"你|您")
ADDRESSEE_EN = re.compile(r"\b(?:you|your|yourself)\b", re.I)
#: Thanks, greetings and acknowledgements: not questions about anything, so never completed with
#: the previous topic ("好的" must not become "刷掌支付的好的").
COURTESY_ZH = re.compile(r"^(?:谢谢|多谢|感谢|谢了|好的|好|行|嗯+|哦+|噢|明白了?|知道了|收到|了解了?|懂了|你好|您好|"
                         r"嗨|哈喽|再见|拜拜|不客气|没事|没问题|对|是的|不是|不对|ok|OK)[啊呀啦了吧哈!！。.~～\s]*$")
COURTESY_EN = re.compile(r"^(?:thanks?(?: you)?(?: very much| a lot)?|thx|ok(?:ay)?|cool|great|nice|got it|i see|"
                         r"hello|hi|hey|bye|goodbye|good (?:morning|afternoon|evening)|yes|no|sure|fine)[\s!.?]*$", re.I)
