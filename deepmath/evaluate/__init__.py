"""Evaluation: `deepmath eval` in three forms (see deepmath.evaluate.run, .suite and .completions).

    deepmath eval --model DIR --data PATH --k 8                                   # one problem file, chat prompts
    deepmath eval --model DIR --benchmarks gsm8k,math500,cmath,mgsm_zh --mode chat # registry benchmarks, paper-style
    deepmath eval --completions outputs.jsonl --output DIR                        # regrade saved outputs

Generation goes through deepmath.evaluate.generation (transformers or vLLM), which training's in-stage evaluation
also uses; programs (PoT, TIR) run through the single sandbox import site deepmath.evaluate.sandbox.
"""
