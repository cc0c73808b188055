"""Teachers: where CoT and PoT thoughts come from, and how asking for them stays cheap and safe.

    openai_client  any OpenAI-compatible chat endpoint (async, bounded concurrency, retries)
    batch          the OpenAI Batch API mode (teacher.mode=batch), resumable
    hf             a local transformers model with batched generate
    simulated      an offline SIMULATION that renders thoughts from synthetic gold solutions
    replay         thoughts read back from a JSONL file
    published      published teacher outputs (Codex PoT, PaLM CoT) in their original formats
    faithful_cot   the Faithful-CoT panel: six OpenAI models' CoT and programs, one each per question
    cache          the SQLite (WAL) cache every answered request is committed to
    engine / plan  the request loop (budget, progress) and what to ask / what it costs
    prompts        the paper's few-shot CoT and PoT templates (App. B, Fig. 8/9)

The stage that drives them is `md.extract` (python -m md.extract). Builders named in
conf/teacher/*.yaml (`_target_`) take flat arguments and return a teacher object.
"""
