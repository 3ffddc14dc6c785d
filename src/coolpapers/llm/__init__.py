"""The FAQ: an LLM reads the whole paper and answers a fixed list of questions.

fulltext (PDF -> cleaned text, stored once) -> conversation (questions asked one by one) ->
jobs (a DB row per paper and language: queue, lease, single flight) -> render (Markdown with
math, sanitized). `service.FaqService` is what the web and the CLI use.
"""
