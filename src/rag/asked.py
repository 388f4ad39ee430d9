"""What a question asks for, and whether a text holds it: the answer-type checks of factoid QA.

A question asks for a price, a share, a date, a count (`asks_for`, `ANSWER_TYPES`) or a name;
for several things (`asks_for_list`); for an ordinal, a month, an amount in a unit or a
person's name (`misses_asked_kind`). The answer stage uses these to keep or drop the reader's spans
(`names_nothing`, `lacks_asked_value`, `misses_asked_kind`); the relevance signals use them to
ask whether the best sentences hold anything of the kind (`holds_type`). Plain functions over
strings: nothing here knows about retrieval or the index.
"""
from __future__ import annotations

import re

from .lexical import has_cjk

_NUMBER = r"(?:\d+(?:[.,]\d+)*|[一二三四五六七八九十两百千万亿]+)"
#: Words that name a share (a table column "线上销售占比" holds shares).
_SHARE_WORD = r"占比|比例|比重|份额|百分之|百分比|渗透率|增长率|增速|占有率"
# Expected answer types (the classic factoid-QA check): (asks, evidence that could answer).
ANSWER_TYPES = {
    "price": (re.compile(r"多少钱|价格|售价|价位|票价|单价|卖多少|多少元|收费|费用是?多少|"
                         r"how much (?:does|do|is|are|did|would)\b.*\b(?:cost|charge|sell)s?\b|\bprice|\bcost\b.*\?", re.I),
              re.compile(rf"{_NUMBER}\s*(?:多)?\s*(?:[万亿千百]?\s*(?:元|美元|欧元|英镑|日元|块|港元|人民币))"
                         r"|[$¥￥€£]\s*\d|\d\s*(?:USD|RMB|CNY|yuan|dollars?)", re.I)),
    # A share word counts only beside a question word ("占比是多少", "多少比例"): "按一定比例混合会
    # 得到什么颜色" asks a colour. Of the public data's 64 Chinese questions with a share word, 29
    # have none beside it and 1 of their reference answers is a share; of the other 35, 32 are.
    "share": (re.compile(rf"(?:{_SHARE_WORD})[^，,。？?]{{0,4}}?"
                         r"(?:多少|几|多大|多高|为何|如何|什么|怎样)|(?:多少|几|多大|多高)的?(?:成|比例|百分比|比重|份额)"
                         r"|多少个?百分点|percent|percentage|\bshare\b|proportion|\brate\b", re.I),
              re.compile(r"\d+(?:\.\d+)?\s*[%％]|百分之|[一二三四五六七八九十]成|\d+(?:\.\d+)?\s*个?百分点"
                         r"|[一二三四五六七八九十]+分之")),
    "date": (re.compile(r"哪一?年|何年|几月|哪个月|何时|什么时候|什么时间|哪天|日期"
                        r"|^\W*when (?:did|does|do|is|was|were|will|would|are|has|have|had|can|could|should)\b"
                        r"|(?:what|which|in what) (?:year|date|month)", re.I),
             # A sexagenary year (庚申年) and a month and day in Chinese numerals (三月二十四日) are
             # dates too: histories and older texts write them so.
             re.compile(r"\d{2,4}\s*年|\d{1,2}\s*月|\b(?:19|20)\d{2}\b|[一二三四五六七八九十〇零]{2,4}年|世纪|年代"
                        r"|[甲乙丙丁戊己庚辛壬癸][子丑寅卯辰巳午未申酉戌亥]年"
                        r"|[正一二三四五六七八九十腊冬]{1,3}月(?:初|[一二三四五六七八九十廿卅]{1,3}日)")),
    "count": (re.compile(r"多少|(?<!哪)几(?:[个种类项家位次条座台名所辆架款场户批期亿万千百]|\b)|how many", re.I),
              re.compile(rf"{_NUMBER}\s*[^\s，。、]{{0,3}}")),
}

#: A table cell that is a bare number (in a row's text, cells are split by "|"): its measure is
#: the column's header, so it can answer a count asked with a measure word (多少家).
_NUMBER_CELL = re.compile(r"(?:^|\|)\s*\d+(?:[.,]\d+)*\s*(?=\||$)", re.M)
_MEASURE_AFTER_ASK = re.compile(r"(?:多少|几)\s*(?P<m>[个种类项家位次条座台名所辆架款场户批期"
                                r"起件例宗张本册只头棵株艘枚篇份届栋幢处])(?P<noun>\w?)")
#: Measure words an answer may count the same things with (多少名员工 -> "38人", 多少条举措 ->
#: "26项举措", 多少家医院 -> "12所医院", 多少起火灾 -> "3宗").
_MEASURE_KIN = {"名": "位人", "位": "名人", "条": "项", "项": "条件", "家": "所个", "所": "家个", "座": "个栋幢",
                "台": "部套", "部": "台本册", "架": "台", "辆": "台", "户": "家", "款": "种个", "种": "类", "类": "种",
                "起": "宗件次", "件": "起宗项", "宗": "起件", "例": "人名位", "张": "个幅", "本": "册部种", "册": "本部",
                "只": "头个", "头": "只", "棵": "株", "株": "棵", "艘": "条", "篇": "份", "份": "篇个", "届": "次",
                "栋": "座幢", "幢": "栋座", "处": "个座"}

#: A question asking who (a person or an organisation) needs a proper name it does not itself contain.
_ASKS_NAME = re.compile(r"谁|哪家|哪位|什么人|哪个(?:公司|机构|企业|组织|人|国家|单位|部门)|\bwho\b|\bwhom\b"
                        r"|which (?:company|organi[sz]ation|firm|bank|person|country|agency)", re.IGNORECASE)


def asks_for(question: str) -> str | None:
    """The answer type the question asks for (a key of ANSWER_TYPES, or "name"), else None."""
    for kind, (asks, _) in ANSWER_TYPES.items():
        if asks.search(question):
            return kind
    return "name" if _ASKS_NAME.search(question) else None


#: Wordings that ask for a name besides `_ASKS_NAME` (which also drives `type_mismatch`).
_ASKS_NAMED = re.compile(r"什么名字|叫什么名|哪[一几]家|\bwhich (?:[\w-]+ ){1,2}(?:company|firm|bank|agency|institution"
                         r"|organi[sz]ation|operator|manufacturer|supplier|vendor)\b", re.I)
#: A span that counts or qualifies things instead of naming one ("三家行业协会", "古籍约4000部", "不同厂商").
_COUNTS_OR_QUALIFIES = re.compile(r"(?:\d+(?:[.,]\d+)*|[一二两三四五六七八九十几多数]+)\s*[家个位名所部种类批项条]"
                                  r"|^(?:不同|多家|部分|一些|各|其他|其它|相关|有关|这些|那些|该|此)")
#: A clause break; a comma between digits is a thousands separator (1,060).
_CLAUSE_BREAK = re.compile(r"[，；;。！？!?]|,(?!\d)|(?<!\d),")
#: Nouns that say what kind of thing a name question asks for.
_KIND_NOUNS = re.compile(r"公司|企业|机构|单位|厂商|厂家|集团|部门|组织|协会|平台|人员|人士|专家")
#: An indefinite article right before a span ("据一家咨询机构测算", "某企业"): it leaves the thing unnamed.
_INDEFINITE_BEFORE = re.compile(r"(?:[一某][家个位所名间]|某些?|一些|有的)\s*$")


def names_nothing(question: str, span: str, before: str = "") -> bool:
    """For a question that asks who or which organisation (`asks_for` "name", 叫什么名字, 哪一家),
    whether `span` names nobody: it counts or qualifies ("三家金融类行业协会", "不同厂商", "古籍约
    4000部"), it is a kind of thing after an indefinite article (`before`, the document text
    before it: "一家" before "咨询机构"), or it only repeats the question's words and the kind of
    thing asked for ("哪家互联网公司" -> "互联网企业"). False for other questions."""
    if not asks_name(question):
        return False
    if _COUNTS_OR_QUALIFIES.search(span):
        return True
    if _INDEFINITE_BEFORE.search(before[-4:]) and re.search(f"(?:{_KIND_NOUNS.pattern})$", span.strip()):
        return True
    return not any(ch.isalnum() and ch not in question for ch in _KIND_NOUNS.sub("", span))


def asks_name(question: str) -> bool:
    """Whether the question asks who or which organisation (`asks_for` "name", 叫什么名字, 哪一家)."""
    return asks_for(question) == "name" or bool(_ASKS_NAMED.search(question))


_ASKS_WHICH = re.compile(r"哪[个一位家座所条种国]|\bwhich\b", re.IGNORECASE)


def asks_which(question: str) -> bool:
    """Whether the question asks which one (哪个区, 哪一位, which district): the answer is one
    thing, not a statement (of the public data's 3,036 such questions that ask no list, reason or
    manner, 5 reference answers hold a clause break)."""
    return bool(_ASKS_WHICH.search(question)) and not asks_for_list(question)


def is_clause(span: str) -> bool:
    """Whether `span` runs across a clause break (，；。): a statement, not a name. Asked who or
    which organisation, such a span is not the answer: of the public data's 871 questions of that
    kind, 9 reference answers hold a clause break, all of them whole sentences."""
    return _CLAUSE_BREAK.search(span) is not None


#: The answer types a span itself must hold: a value, not a name.
_VALUE_TYPES = ("price", "share", "date", "count")
#: Who or which one: a question that also mentions a share or a year asks for a name then.
_ASKS_WHO_OR_WHICH = re.compile(_ASKS_NAME.pattern + r"|哪一?[个位家所](?!月)"
                                r"|\bwhich\s+(?!(?:year|month|day|date|percentage|share|proportion)\b)", re.IGNORECASE)


def asked_value(question: str) -> str | None:
    """The kind of value the question asks for ("price", "share", "date", "count"), None when it
    asks for none, or also asks who or which organisation ("哪一个组织…投入比重")."""
    kind = asks_for(question)
    return kind if kind in _VALUE_TYPES and not _ASKS_WHO_OR_WHICH.search(question) else None


#: A table header's unit in brackets: 收购价（元/公斤） -> 元/公斤.
_HEADER_UNIT = re.compile(r"[（(]([^（）()]{1,12})[）)]")


def lacks_asked_value(question: str, span: str, column: str = "") -> bool:
    """Whether `span` holds no value of the kind the question asks for (`asked_value`): "多家" for
    how many, "冷板" for what share, "L/kWh" for 多少L/kWh; the reading is about something else.
    The measure word is not required here (多少家 -> "2100" is a right span). `column`: for a
    span in a table cell, its column's header; a number there holds the value when the header
    names that kind of value (占比, 票价) or its unit does (收购价（元/公斤）: "38" is 38元/公斤)."""
    kind = asked_value(question)
    if kind is None or ANSWER_TYPES[kind][1].search(span):
        return False
    if column and any(ch.isdigit() for ch in span):
        unit = _HEADER_UNIT.search(column)
        names_kind = ANSWER_TYPES[kind][0].search(column) or (kind == "share" and re.search(_SHARE_WORD, column))
        if names_kind or (unit and ANSWER_TYPES[kind][1].search(span + unit.group(1))):
            return False
    return True


#: Asked which one in order (第几窟, 第几届): the measure word after 第几.
_ASKS_ORDINAL = re.compile(r"第几\s*(?P<m>[^\W\d_])")
#: Asked which month (几月, 哪个月, what month): a year alone does not answer.
_ASKS_MONTH = re.compile(r"(?<!第)几月|哪一?个?月|\b(?:what|which) month\b", re.I)
_MONTH = (r"\d{1,2}\s*(?:[-–—~～至到]\s*\d{1,2}\s*)?月|[一二三四五六七八九十正腊冬]+月|月份"
          r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b")
#: Asked how much of a unit written in Latin letters (多少L/kWh, 多少MW, 多少GB).
_ASKS_LATIN_UNIT = re.compile(r"(?:多少|几)\s*(?P<u>[A-Za-z][A-Za-z/²³·]*)")
#: Asked the name of a person, named by a role (理事长叫什么名字, 馆员是谁, 作者为何人).
_ASKS_PERSON = re.compile(r"(?:长|员|人|者|师|官|主任|书记|经理|代表|老板|导演|教练)的?(?:名字|叫什么|是谁|为何人|为谁)")
#: What a person's name does not end with: a place, an organisation, a role.
_NOT_A_PERSON = re.compile(r"(?:镇|市|县|省|村|区|州|乡|国|公司|集团|合作社|研究所|研究院|大学|学院|协会|委员会|者|员|长)\W*$")
#: How far past a span its measure word or unit may stand (the reader may leave it out: "20" 窟).
KIND_TAIL = 8


#: Units a measured amount carries: length, area, weight, money, power, time, share.
_UNITS = (r"(?:[%％]|公里|千米|米|厘米|毫米|平方米|平方公里|公顷|亩|吨|千克|公斤|克|元|美元|欧元"
          r"|千瓦时|千瓦|兆瓦|瓦|小时|分钟|秒|天|个月|岁|倍)")
_AMOUNT = r"^\s*(?:约|近|超过|逾|达)?\s*\d+(?:[.,]\d+)*\s*(?:多|余)?\s*[万亿千百]?\s*"
#: A span that is only a quantity, a number with at most a unit ("158公里", "3.8小时", "约85%"):
#: it measures, it names nothing.
_QUANTITY = re.compile(_AMOUNT + _UNITS + r"?\s*$")
#: A span that is only a measured amount, a number with its unit ("32公里", "4100万千瓦"): it
#: counts no things.
_MEASURED = re.compile(_AMOUNT + _UNITS + r"\s*$")
#: A count asked in units (how many kilometres, 多少个小时): a measured amount answers it.
_ASKS_UNITS = re.compile(r"\bhow many\s+(?:[\w-]+\s+){0,2}?(?:kilomet\w*|km|miles?|met(?:er|re)s|hours?|minutes?"
                         r"|seconds?|days?|weeks?|months?|years?|tons?|tonnes?|kilograms?|kg|grams?|yuan|dollars?"
                         r"|euros?|percent|percentage|times|megawatts?|gigawatts?|kilowatts?|mw|gw|kw|kwh|square"
                         r"|hectares?|mu|acres?|lit(?:er|re)s?|gb|tb|degrees?)\b"
                         r"|(?:多少|几)个?(?:小时|月|星期|礼拜|钟头|工作日|百分点)", re.I)
#: A span that is only a count with a specific measure word ("23家"; the generic 个 says nothing).
_COUNTED = re.compile(_AMOUNT + r"(?P<m>[种类项家位次条座台名所辆架款场户批期起件例宗张本册只头棵株艘枚篇份届栋幢处人部套])\s*$")
#: A number in a span, and whether a share sign follows it ("9.6%", "1.5%至3%").
_NUMBER_AND_SIGN = re.compile(r"\d+(?:[.,]\d+)*\s*([%％]|个?百分点)?")
#: A count asked of things: "how many", or 多少/几 with a measure word (多少家, 几座). A bare
#: 多少 also asks for rates ("录取率为多少": of the public data's 330 count questions, 6
#: reference answers are shares, none asked so).
_ASKS_COUNT_OF_THINGS = re.compile(r"\bhow many\b|" + _MEASURE_AFTER_ASK.pattern, re.I)
#: The unit a reader may leave just outside a number ("4100" 万千瓦).
_UNIT_AFTER = r"\s*(?:多|余)?[万亿千百]?\s*" + _UNITS
#: A span that is a rank ("第一", "第5位"): it places something, it counts nothing.
_RANK = re.compile(rf"\s*第\s*{_NUMBER}")
#: Asked a rank in so many words (第几位, 排名多少, which place): a rank answers that count.
_ASKS_RANK = re.compile(r"第几|排名|排行|名列|排第|名次|位列|位居|\branks?(?:ed)?\b|\bplace\b", re.I)
#: Asked how much something costs, in so many words (a price word beside 多少, how much … cost):
#: `ANSWER_TYPES` "price" also fires on a price merely mentioned ("票价24.5元是根据哪一规定制定的").
_ASKS_AMOUNT_OF_MONEY = re.compile(r"多少钱|几块钱|卖多少|多少元"
                                   r"|(?:价格|价钱|售价|价位|票价|单价|收费|费用|花费)\w{0,2}?(?:是|为)?多少"
                                   r"|\bhow much\b.*\b(?:cost|charge|sell)s?\b"
                                   r"|\bwhat(?:'s|\s+is|\s+was|\s+are)\s+the\s+(?:\w+[\s-]+){0,2}(?:price|cost|fee)s?\b", re.I)
#: Money, or none of it: what a price can be besides an amount ("免费", "free of charge").
_FREE = re.compile(r"免费|不收费|\bfree\b", re.I)


#: Which day, month or period: asked so, a bare number can be the answer ("6" in "6-8月").
_ASKS_WHEN = re.compile(r"哪[一个]?(?:天|日|月|年|季|周|期|世纪|年代|时)|几[月日号点]|\bwhen\b|what time", re.I)


def _asks_thing(question: str) -> bool:
    """Whether the question asks who, which one or which ones, and for no value or time."""
    return ((asks_name(question) or asks_which(question) or asks_for_list(question))
            and asked_value(question) is None and not _ASKS_WHEN.search(question))


def asks_kind(question: str) -> bool:
    """Whether the question asks for one of the kinds `misses_asked_kind` checks: an ordinal, a
    month, an amount in a Latin unit, a person's name, a price, a count of things, or a thing
    (who, which one: not a bare quantity). Most questions ask for none."""
    return (any(p.search(question) for p in (_ASKS_ORDINAL, _ASKS_MONTH, _ASKS_PERSON, _ASKS_LATIN_UNIT))
            or bool(_ASKS_AMOUNT_OF_MONEY.search(question)) or bool(_ASKS_COUNT_OF_THINGS.search(question))
            or _asks_thing(question))


def misses_asked_kind(question: str, span: str, following: str = "", column: str = "") -> bool:
    """Whether `span` (with `following`, the document text right after it, where a reader often
    leaves the measure word or unit) cannot be the kind of thing the question asks for: asked
    第几窟, no ordinal (第20, 首, 最后) or number of 窟 ("1:1比例"); asked 几月, no month
    ("2023年"); asked 多少L/kWh, no number with that unit ("单位为L/kWh"; a number in a table
    cell whose `column` header names the unit holds it); asked a person's name (理事长叫什么名字),
    a place, an organisation or a role ("青禾镇", "志愿者"); asked a price, no amount of money
    ("3.8小时": the reader left out no unit, since `following` is read too; "免费" answers);
    asked how many things, a span whose numbers are all shares ("9.6%" for how many passengers),
    whose first clause is only a measured amount ("32公里" for how many robots, "4100" before
    万千瓦; not when asked in units, how many kilometres, 多少个小时) or a rank ("第一" for how
    many turbines; not when a rank is asked, 排名多少, 第几位), or a count with another measure
    word ("23家" for 多少名厨师; kin measure words count the same things, `asks_measure`); asked
    who or which one(s), only a quantity ("158公里" for 哪几条线路: of the public data's 3,643
    such questions, 4 reference answers are, all years asked as 哪一发生). False when the
    question asks for none of these. (On the public data's 8,019 questions, 1 reference answer
    fails these checks.)"""
    def found(pattern: str) -> bool:
        text = span + following[:KIND_TAIL]
        return any(m.start() < len(span) for m in re.compile(pattern, re.I).finditer(text))

    ordinal = _ASKS_ORDINAL.search(question)
    if ordinal and not (re.fullmatch(rf"\s*{_NUMBER}\s*", span)
                        or found(rf"第\s*{_NUMBER}|[首头末]|最后|{_NUMBER}\s*{re.escape(ordinal.group('m'))}")):
        return True
    if _ASKS_MONTH.search(question) and not found(_MONTH):
        return True
    if _ASKS_PERSON.search(question) and _NOT_A_PERSON.search(span):
        return True
    unit = _ASKS_LATIN_UNIT.search(question)
    if unit and not found(rf"\d\s*{re.escape(unit.group('u'))}"):
        return not (unit.group("u").lower() in column.lower() and any(ch.isdigit() for ch in span))
    kind = asked_value(question)
    if _ASKS_AMOUNT_OF_MONEY.search(question) and not (found(ANSWER_TYPES["price"][1].pattern) or _FREE.search(span)):
        return lacks_asked_value(question, span, column)   # a bare number under a price column holds one
    if kind == "count" and _ASKS_COUNT_OF_THINGS.search(question):
        signs = [m.group(1) for m in _NUMBER_AND_SIGN.finditer(span)]
        if signs and all(signs):   # every number in it a share: it counts nothing
            return True
        # The span's first clause is what it answers with ("4100万千瓦，连续四年位居全球第一").
        first = _CLAUSE_BREAK.split(span, 1)[0]
        rest = following if first == span else ""
        measured = _MEASURED.match(first) or (_QUANTITY.match(first) and re.match(_UNIT_AFTER, rest))
        if measured and not _ASKS_UNITS.search(question):   # "32公里" (or "4100万" 千瓦) for how many robots
            return True
        if _RANK.match(first) and not _ASKS_RANK.search(question):   # "第一" for how many turbines
            return True
        # The reader may leave the measure word just outside the span ("23" 家).
        counted, asked = _COUNTED.match(span) or _COUNTED.match(span + following[:1]), _MEASURE_AFTER_ASK.search(question)
        if counted and asked and asked.group("m") != "个" \
                and not re.fullmatch(asks_measure(question), counted.group("m")):   # "23家" for 多少名厨师
            return True
    return _asks_thing(question) and _QUANTITY.match(span) is not None


#: What a span is made of, for `echoes`: runs of Chinese characters, Latin words, numbers.
_ECHO_UNITS = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)?")
#: A question that offers its answers (A还是B, 是否, or): the answer then repeats the question.
_OFFERS_CHOICES = re.compile(r"还是|或者|或是|抑或|是否|\bor\b|\bwhether\b", re.I)


#: A term's gloss in brackets right after it ("智慧农业（Smart Agriculture）"), and a bracket
#: opened right before a span after a Chinese term ("隐私计算(" before "Privacy Computing").
_GLOSS_AFTER = re.compile(r"^[*_\s]*[（(]\s*([A-Za-z][^（）()\n]{0,60})[）)]")
_TERM_BEFORE = re.compile(r"([\u4e00-\u9fff]{2,12})[*_\s]*[（(]\s*$")
_GLOSS_WORD = re.compile(r"[A-Za-z]{3,}")


def echoes(question: str, span: str, before: str = "", after: str = "") -> bool:
    """Whether `span` only repeats the question: every run of Chinese characters, Latin word and
    number in it is in the question ("数字孪生" for "什么叫数字孪生？"; not "量子光学" for
    "哪一门光学处理光的量子力学特性…", whose characters are all there but not as one run), or it
    is a term the document glosses in brackets and the question names it in the other language:
    "智慧农业" followed by "（Smart Agriculture）" for "… of smart agriculture …", "Privacy
    Computing" in "隐私计算(…)" for "隐私计算是一种怎样的技术？" (`before`/`after`: the document text
    around the span). Such a span is the question's subject, not what is asked of it. False when
    the question offers its answers (A还是B, 是否, or)."""
    units = _ECHO_UNITS.findall(span)
    if not units or _OFFERS_CHOICES.search(question):
        return False
    asked = question.lower()
    if all((u if has_cjk(u) else u.lower()) in asked for u in units):
        return True
    if _CLAUSE_BREAK.search(span) or len(span) > 24:
        return False
    gloss = _GLOSS_AFTER.match(after)
    words = _GLOSS_WORD.findall(gloss.group(1)) if gloss and has_cjk(span) else []
    if words and all(re.search(rf"\b{re.escape(w.lower())}", asked) for w in words):
        return True
    term = _TERM_BEFORE.search(before[-20:]) if not has_cjk(span) else None
    return bool(term and term.group(1) in question)


#: Superlatives and their opposites: asked 最低, a span whose clause says 最高 answers the opposite.
_OPPOSITES = dict(pair for a, b in (("最高", "最低"), ("最多", "最少"), ("最大", "最小"), ("最早", "最晚"),
                                    ("最快", "最慢"), ("最长", "最短"), ("最好", "最差"), ("最强", "最弱"))
                  for pair in ((a, b), (b, a)))
_SUPERLATIVE = re.compile("|".join(_OPPOSITES))


def says_opposite(question: str, clause: str) -> bool:
    """Whether `clause` (the clause holding a span) says the opposite of the one superlative the
    question asks for, and not that one: asked "哪个区的完成率最低", "东湖区完成率最高" is the
    other end. (In the public data's 282 questions asking one superlative, no reference answer's
    clause does.)"""
    asked = set(_SUPERLATIVE.findall(question))
    if len(asked) != 1:
        return False
    word = asked.pop()
    return _OPPOSITES[word] in clause and word not in clause


#: A clause about the whole country or world: "全国老旧小区累计加装电梯约7.2万部". Not a name that
#: holds the words (全国人大, 全国代表大会) nor "全国性" (of the kind found nationwide).
_WHOLE_SCOPE = re.compile(r"全(?:国|球|世界)(?!人大|人民|代表|政协|性)")
#: A clause that ranks its subject within the whole (全国第6, 全球唯一, 全国最繁忙): still about that subject.
_RANKED_WITHIN = re.compile(r"第|最|首|唯一|之冠")
#: A question asked within the whole (全国有多少, nationwide, in the world): its names need not recur.
_ASKS_WHOLE = re.compile(r"全(?:国|球|世界|美|台)|\b(?:nation(?:al|wide)?|global(?:ly)?|world(?:wide)?|countr(?:y|ies))\b",
                         re.I)


def speaks_of_the_whole(question: str, clause: str) -> bool:
    """Whether `clause` (the clause holding a span) states a figure of the whole country or world,
    not ranking anything within it, while the question does not ask about the whole. Asked about
    广州市, "全国老旧小区累计加装电梯约7.2万部" is another subject's figure when the sentence does
    not name 广州市 (the caller checks the names). Of the public data's 3,998 questions naming a
    place, organisation or person, 1 reference answer stands in such a clause of a sentence
    without the name (docs/answers.md)."""
    return bool(_WHOLE_SCOPE.search(clause)) and not _RANKED_WITHIN.search(clause) \
        and not _ASKS_WHOLE.search(question)


#: Questions that ask for several things (the answer is a list or an enumeration, not one item).
_ASKS_LIST = re.compile(r"哪些|哪几|哪[两二三四五六七八九十]|几(?:种|类|项|个方面|大|点|条)|有什么(?:形式|类型|种类|特点|特征)"
                        r"|\bwhich (?:\w+ ){0,2}(?!(?:has|was|is|does|goes|makes|uses|gives|needs|takes)\b)\w+s\b"
                        r"|\bwhat are\b|\bwhat (?:kinds|types|forms)\b|\bname the\b|\blist\b", re.I)


def asks_for_list(question: str) -> bool:
    """Whether the question asks for several things (哪些, 哪两种, 几类, which Xs, what are):
    the reader then answers with a whole list, not its first item (`reader.spans.whole_list`)."""
    return bool(_ASKS_LIST.search(question))


def asks_measure(question: str) -> str | None:
    """The measure word a count question asks with (座 in 多少座), as a regular expression, if
    any. The generic 个 also stands for the noun after it, which an answer often counts without
    个 (几个小时 -> "4小时", 多少个国家 -> "12国"); another measure word also stands for its kin
    (`_MEASURE_KIN`: 多少名 -> "38人")."""
    match = _MEASURE_AFTER_ASK.search(question)
    if not match:
        return None
    measure, noun = match.group("m"), match.group("noun")
    if measure == "个" and noun and has_cjk(noun):
        return f"个|{re.escape(noun)}"
    return f"[{re.escape(measure + _MEASURE_KIN.get(measure, ''))}]"


def holds_type(question: str, kind: str, text: str) -> bool:
    """Whether `text` holds something of the answer type `kind` the question asks for (a count
    asked with a measure word, 多少座, needs that measure word after a number)."""
    measure = asks_measure(question) if kind == "count" else None
    if measure:
        return re.search(rf"{_NUMBER}\s*(?:多)?\s*[万亿千百]?\s*(?:{measure})", text) is not None \
            or ("|" in text and _NUMBER_CELL.search(text) is not None)
    return ANSWER_TYPES[kind][1].search(text) is not None
