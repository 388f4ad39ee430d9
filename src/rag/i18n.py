"""The interface's words in Chinese and English: one table per language, the same keys in both.

    t("en", "sources_for", question="…")     # -> "Sources for: …"
    language_of("What is DRG?")              # -> "en"

The web chat picks the language of each answer from its question (or from the page's language
switch); Gradio's static labels get both tables through `gr.I18n` so the first page follows
the browser's language. Values are plain text: whoever shows them as HTML escapes them.
"""
from __future__ import annotations

from .relevance import question_language

LANGUAGES = ("zh", "en")
#: The language of a page before any question (the bundled corpus is Chinese).
DEFAULT_LANGUAGE = "zh"

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "intro": "向资料提问（中文或英文）。每个回答都逐字引用原文，并用 [n] 标出出处：点 [n] 即可看到它在原文中的位置。"
                 "资料中没有答案时，会直接说明，并列出可以问的主题。",
        "question_label": "问题",
        "question_placeholder": "输入问题，按回车发送",
        "send": "发送",
        "restart": "重新开始",
        "settings": "设置",
        "examples": "示例问题（点击即问）",
        "top_k_label": "检索段落数",
        "top_k_info": "回答前参考多少个段落",
        "strictness_label": "严格程度",
        "strictness_info": "越高越严格：相关度低于此值时不作答",
        "language_label": "界面语言",
        "language_auto": "跟随问题",
        "conversation": "对话",
        "conversation_empty": "还没有问题。试试下面的示例，或直接输入。",
        "you": "你",
        "bot": "回答",
        "understood_as": "按上文理解为：{text}",
        "copy": "复制",
        "copied": "已复制",
        "download": "下载对话（Markdown）",
        "jump_sources": "查看来源 ↓",
        "cite_label": "来源 {n}",
        "sources": "来源",
        "sources_region": "来源与原文",
        "sources_empty": "提问后，这里会列出每条引文 [n] 所在的原文段落，引用的部分以高亮标出。",
        "sources_for": "{question}",
        "nearest_for": "{question}",
        "nearest": "最接近的段落（不是答案）",
        "status_answered": "已更新来源：{count} 条引文。",
        "status_abstained": "资料中没有找到答案；已列出最接近的段落。",
        "back_to_answer": "↑ 回到回答",
        "open_in_document": "在原文中查看",
        "details": "详细信息",
        "where": "文件 {doc} · 第 {start}–{end} 个字符",
        "quote_where": "引文 [{n}]：第 {start}–{end} 个字符",
        "retrieval_score": "检索排名分 {score}（多种检索方式的排名融合，只用于排序，不是百分比）",
        "quote_score": "引文得分 {score}（与问题的语义相似度加用词重合，只用于在本回答内比较）",
        "relevance": "相关度",
        "relevance_high": "高",
        "relevance_medium": "中",
        "relevance_low": "低",
        "relevance_help": "相关度表示资料回答这个问题的把握（0–100%）。只有相关度不低于“严格程度”（现为 {strictness}）时才作答。"
                          "本题：{relevance}。",
        "abstained_why": "相关度 {relevance} 低于严格程度 {strictness}，所以没有作答。",
        "abstained_why_close": "相关度 {relevance} 略低于严格程度 {strictness}，所以没有作答。",
        "answered_by_form": "这是关于资料本身的问题（章节、术语、来源），直接引用资料中的原句。",
        "suggest_title": "资料里有这些相关内容，可以这样问：",
        "suggest_open": "打开这一节",
        "see_outline": "查看全部资料的目录 ↓",
        "documents": "资料目录",
        "documents_help": "点任意一节，查看全文。",
        "sections_count": "{count} 节",
        "intro_section": "引言",
        "section_view": "原文",
        "section_close": "关闭原文",
        "quoted_here": "高亮部分为引文 [{n}]。",
        "turn": "第 {n} 问：",
        "export_title": "对话记录",
        "export_question": "问",
        "export_sources": "来源",
        "empty_question": "请先输入问题。",
        "too_long": "问题太长（{length} 字），最多 {limit} 字，请缩短后再问。",
        "bad_history": "history 必须是字符串列表（JSON）。",
        "untitled": "资料问答",
        "index_building": "正在建立索引：{progress}。建好后即可提问。",
        "index_updating": "正在更新索引：{progress}。更新完成前，按之前的资料回答。",
        "index_batches": "{done}/{total} 批",
        "index_pass": "第 {step}/{steps} 遍，",
        "index_seconds_left": "，约 {n} 秒",
        "index_minutes_left": "，约 {n} 分钟",
        "index_preparing": "正在读取资料",
        "index_saving": "正在保存",
        "index_ready": "索引已就绪：{documents} 篇资料，{passages} 个段落。",
        "index_failed": "建立索引失败：{error}",
        "index_update_failed": "更新索引失败：{error}。仍按之前的资料回答。",
        "index_not_ready": "索引仍在建立中，请稍后再问。",
        "server_busy": "服务器正忙，请稍后再问。",
        "index_missing": "没有可用的索引，无法回答：{error}",
        "upload_label": "添加文档（.txt .md .pdf .docx .html）",
        "upload_hint": "每次最多 {files} 个文件；文本文件每个不超过 {size} 字节，PDF、Word 文件和网页不超过 {file_size} 字节。"
                       "文件通过检查后加入资料，索引随后在后台更新。",
        "page": "第 {page} 页",
        "open_original": "打开原文件（第 {page} 页）",
        "open_original_file": "打开原文件",
        "upload_added": "已加入：{names}。索引随后在后台更新，进度见页面上方。",
        "upload_unchanged": "{name}：资料中已有这个文件，内容相同，没有变化。",
        "upload_refused": "未加入：",
        "upload_too_many": "一次最多上传 {limit} 个文件（这次 {count} 个），没有加入任何文件。",
    },
    "en": {
        "intro": "Ask the documents a question, in Chinese or English. Every answer quotes them word for word and "
                 "marks each source with [n]: select [n] to see where it stands in the document. When the "
                 "documents do not answer, it says so and lists topics you can ask about.",
        "question_label": "Question",
        "question_placeholder": "Ask a question…",
        "send": "Send",
        "restart": "Start over",
        "settings": "Settings",
        "examples": "Example questions (select one to ask it)",
        "top_k_label": "Passages to consider",
        "top_k_info": "How many passages are read before answering",
        "strictness_label": "Strictness",
        "strictness_info": "Higher is stricter: no answer when relevance is below this",
        "language_label": "Language",
        "language_auto": "Follow the question",
        "conversation": "Conversation",
        "conversation_empty": "No questions yet. Try an example below, or type your own.",
        "you": "You",
        "bot": "Answer",
        "understood_as": "Understood as: {text}",
        "copy": "Copy",
        "copied": "Copied",
        "download": "Download conversation (Markdown)",
        "jump_sources": "Sources ↓",
        "cite_label": "Source {n}",
        "sources": "Sources",
        "sources_region": "Sources and documents",
        "sources_empty": "After a question, every passage cited as [n] is shown here with the quoted words highlighted.",
        "sources_for": "{question}",
        "nearest_for": "{question}",
        "nearest": "Nearest passages (not an answer)",
        "status_answered": "Sources updated: {count} citation{count_s}.",
        "status_abstained": "The documents do not answer this; the nearest passages are listed.",
        "back_to_answer": "↑ Back to the answer",
        "open_in_document": "Open in the document",
        "details": "Details",
        "where": "File {doc} · characters {start}–{end}",
        "quote_where": "Quote [{n}]: characters {start}–{end}",
        "retrieval_score": "retrieval rank score {score} (a fusion of several rankings; it orders passages, "
                           "it is not a percentage)",
        "quote_score": "quote score {score} (meaning similarity plus shared words; compares the quotes of one answer)",
        "relevance": "Relevance",
        "relevance_high": "high",
        "relevance_medium": "medium",
        "relevance_low": "low",
        "relevance_help": "Relevance is how sure it is that the documents answer this question (0–100%). It answers only "
                          "when relevance is at least the strictness (now {strictness}). This question: {relevance}.",
        "abstained_why": "Relevance {relevance} is below the strictness {strictness}, so there is no answer.",
        "abstained_why_close": "Relevance {relevance} is just below the strictness {strictness}, so there is no answer.",
        "answered_by_form": "A question about the documents themselves (sections, terms, source): quoted directly.",
        "suggest_title": "The documents cover these related topics; you could ask about:",
        "suggest_open": "open this section",
        "see_outline": "See the outline of all documents ↓",
        "documents": "Documents",
        "documents_help": "Select a section to read it in full.",
        "sections_count": "{count} section{count_s}",
        "intro_section": "Introduction",
        "section_view": "Document text",
        "section_close": "Close",
        "quoted_here": "The highlighted words are quote [{n}].",
        "turn": "Question {n}:",
        "export_title": "Conversation",
        "export_question": "Q",
        "export_sources": "Sources",
        "empty_question": "Please type a question first.",
        "too_long": "The question is too long ({length} characters); the limit is {limit}. Please shorten it.",
        "bad_history": "history must be a list of strings (JSON).",
        "untitled": "Document Q&A",
        "index_building": "Building the index: {progress}. You can ask once it is ready.",
        "index_updating": "Updating the index: {progress}. Until it is done, answers come from the previous documents.",
        "index_batches": "{done} of {total} batches",
        "index_pass": "pass {step} of {steps}: ",
        "index_seconds_left": ", about {n} s left",
        "index_minutes_left": ", about {n} min left",
        "index_preparing": "reading the documents",
        "index_saving": "saving",
        "index_ready": "Index ready: {documents} document{documents_s}, {passages} passage{passages_s}.",
        "index_failed": "Building the index failed: {error}",
        "index_update_failed": "Updating the index failed: {error}. Answers still come from the previous documents.",
        "index_not_ready": "The index is still being built; please ask again shortly.",
        "server_busy": "The server is busy; please ask again in a moment.",
        "index_missing": "There is no index to answer from: {error}",
        "upload_label": "Add documents (.txt .md .pdf .docx .html)",
        "upload_hint": "Up to {files} file{files_s} at a time: a text file of {size} bytes at most, a PDF, Word file or web "
                       "page of {file_size} bytes. A file joins the documents once it passes the checks; the index "
                       "is then updated in the background.",
        "page": "p. {page}",
        "open_original": "Open the original file at page {page}",
        "open_original_file": "Open the original file",
        "upload_added": "Added: {names}. The index is updated in the background; see the status at the top.",
        "upload_unchanged": "{name}: already in the documents with the same content; nothing changed.",
        "upload_refused": "Not added:",
        "upload_too_many": "At most {limit} files at a time ({count} given); nothing was added.",
    },
}


def t(lang: str, key: str, **fields) -> str:
    """The string `key` in `lang` (Chinese for an unknown language), with `fields` filled in.

    Every whole-number field `F` also gives `F_s`, "" for 1 and "s" otherwise, so an English
    string says "1 citation", "2 citations" ("{count} citation{count_s}")."""
    table = STRINGS.get(lang, STRINGS[DEFAULT_LANGUAGE])
    if not fields:
        return table[key]
    plurals = {f"{name}_s": "" if value == 1 else "s" for name, value in fields.items()
               if isinstance(value, int) and not isinstance(value, bool)}
    return table[key].format(**fields, **plurals)


def plural(count: int, word: str) -> str:
    """"1 document", "2 documents": an English count with its noun (log lines, reports)."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def browser_language(accept_language: str | None) -> str:
    """The interface language for a browser's Accept-Language header: the first of its
    languages the page has ("en-US,en;q=0.9" -> "en", "zh-CN" -> "zh"), else the default."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower().split("-")[0]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def language_of(text: str) -> str:
    """ "zh" when `text` holds a Chinese character, else "en" (the answer stage's own rule)."""
    return question_language(text)
