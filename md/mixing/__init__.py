"""Building blocks of the mix stage (`python -m md.mix`): vote and type, balance, targets, stats.

    judged thoughts ──vote.summarize──▶ Question (type 1-4, n1, n2, λ)
                    ──balance.factors──▶ upsampling per type
                    ──targets.examples──▶ MixedExample records (md | cot | pot | label)
                    ──stats.compute / plot.save──▶ stats.json, stats.png, printed table, W&B

The stages `md.execute` and `md.mix` are thin drivers over these modules.
"""
