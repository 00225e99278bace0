"""The one table behind the strategy pages (``docs/strategies/<Name>.rst``, written by
``_strategy_pages.py`` before each build).

Each entry: what the strategy does (two sentences), the paper, the scenarios it
suits, where skcl departs from the paper or from Avalanche 0.6.0 and why, and the
spellings ``benchmarks/README.md`` uses for it (its measured rows are read from
there, never copied). Parameters and their defaults come from the class itself
(autodoc), plugins from its ``_builtin_plugins``.
"""

from __future__ import annotations

CLASS, TASK, DOMAIN, ONLINE = "class-incremental", "task-incremental", "domain-incremental", \
    "online"

#: name -> entry. ``scenarios``: where the strategy is meant to work (first = best fit).
STRATEGIES: dict[str, dict] = {
    "Naive": dict(
        family="baseline",
        what="Fine-tunes the network on each experience in turn, with nothing to protect "
             "earlier ones. It is the lower bound every other strategy is compared with: it "
             "forgets almost everything on class-incremental streams.",
        paper="No paper of its own; the standard lower bound. See G. M. van de Ven, "
              "T. Tuytelaars & A. S. Tolias, \"Three types of incremental learning\", "
              "*Nature Machine Intelligence* 4, 1185-1197 (2022).",
        scenarios=[CLASS, TASK, DOMAIN, ONLINE],
        suits="Any stream, as the reference point.",
        departures=[],
        names=["Naive"]),
    "Cumulative": dict(
        family="baseline",
        what="At every experience, trains on the concatenation of all the data seen so far, "
             "without resetting the model. An upper bound whose cost grows with the stream.",
        paper="No paper of its own; the standard upper bound (see van de Ven, Tuytelaars & "
              "Tolias, *Nature Machine Intelligence* 4, 1185-1197, 2022).",
        scenarios=[CLASS, TASK, DOMAIN],
        suits="Any stream where keeping all the data is allowed; the reference at the top.",
        departures=["Avalanche does not switch the concatenated data to its training "
                    "transforms (a quirk of the reference); skcl applies ``train_transform`` "
                    "to every minibatch, old data included."],
        names=["Cumulative"]),
    "JointTraining": dict(
        family="baseline",
        what="Concatenates every experience of the stream and trains once with ``fit``. Not a "
             "continual learner (there is no ``partial_fit``), but the upper bound.",
        paper="No paper of its own; the standard offline upper bound.",
        scenarios=[CLASS, TASK, DOMAIN],
        suits="Reference runs; call ``fit(stream)`` once.",
        departures=["Avalanche's ``train()`` may be called once and then raises; skcl has no "
                    "``partial_fit`` at all, so scikit-learn treats it as a batch learner and "
                    "calling it says to use ``fit(stream)`` or Cumulative.",
                    "Avalanche 0.6.0 passes the ungrouped ``eval_streams`` to its epoch loop "
                    "(fixed upstream in March 2025); not applicable here."],
        names=["JointTraining"]),
    "Replay": dict(
        family="replay",
        what="Keeps a memory of past samples and appends ``batch_size_mem`` of them to every "
             "minibatch. The cost of an experience does not grow with the number of past "
             "experiences.",
        paper="D. Rolnick, A. Ahuja, J. Schwarz, T. Lillicrap & G. Wayne, \"Experience Replay "
              "for Continual Learning\", NeurIPS 2019; A. Chaudhry et al., \"On Tiny Episodic "
              "Memories in Continual Learning\", arXiv:1902.10486 (2019).",
        scenarios=[CLASS, DOMAIN, TASK, ONLINE],
        suits="Class-incremental streams with a memory budget: the strongest simple choice "
              "in the measured tables.",
        departures=["Avalanche builds a ``ReplayDataLoader`` that concatenates memory and data; "
                    "skcl draws the replayed samples from the buffer's tensors by indexing in "
                    "``adapt_batch`` (same batches, no data-loader rebuild, constant cost per "
                    "experience)."],
        names=["Replay"]),
    "GDumb": dict(
        family="replay",
        what="Greedily fills a class-balanced memory, then at every experience resets the "
             "model to its initial weights and trains it on the memory only. It questions "
             "how much the other strategies gain from the stream itself.",
        paper="A. Prabhu, P. H. S. Torr & P. K. Dokania, \"GDumb: A Simple Approach that "
              "Questions Our Progress in Continual Learning\", ECCV 2020.",
        scenarios=[CLASS, ONLINE, DOMAIN],
        suits="Class-incremental streams with a memory; fast (it trains on the memory only).",
        departures=["The paper's greedy class-balanced sampler, offering the samples one by one "
                    "in a seeded random order; Avalanche uses per-class reservoirs instead."],
        names=["GDumb"]),
    "GSS_greedy": dict(
        family="replay",
        what="Replay whose memory keeps the samples with the most diverse gradients, scored "
             "against random memory subsets. Designed for a single online pass.",
        paper="R. Aljundi, M. Lin, B. Goujaud & Y. Bengio, \"Gradient based sample selection "
              "for online continual learning\", NeurIPS 2019.",
        scenarios=[ONLINE, CLASS],
        suits="Online streams (``scored_batch=\"incoming\"``); offline class-incremental "
              "streams with the default ``scored_batch=\"training\"``.",
        departures=["``scored_batch``: ``\"training\"`` (default) scores the batch the model "
                    "trains on, as Avalanche does; ``\"incoming\"`` scores only the incoming "
                    "samples after the step, as the authors' code does. Measured: "
                    "``\"training\"`` is better offline over several epochs, ``\"incoming\"`` "
                    "online (tables below).",
                    "The scoring gradients are computed with ``torch.autograd.grad`` and never "
                    "leak into the training step's ``.grad`` (they do in Avalanche).",
                    "``mem_strength`` defaults to 5 for the strategy too (Avalanche's wrapper "
                    "defaults to 1, its plugin to 5); no ``input_size`` parameter (taken from "
                    "the data)."],
        names=["GSS_greedy", "GSS_greedy (200)"]),
    "ICaRL": dict(
        family="replay",
        what="Trains a feature extractor with a sigmoid cross-entropy plus distillation from "
             "the previous model, keeps exemplars chosen by herding, and predicts the nearest "
             "mean of exemplars. Classes are assumed not to recur.",
        paper="S.-A. Rebuffi, A. Kolesnikov, G. Sperl & C. H. Lampert, \"iCaRL: Incremental "
              "Classifier and Representation Learning\", CVPR 2017.",
        scenarios=[CLASS],
        suits="Class-incremental streams with a memory.",
        departures=["The binary cross-entropy is **summed over the output units** (the paper's); "
                    "Avalanche averages it, so at equal ``lr`` a step here is ``n_units`` times "
                    "Avalanche's: divide ``lr`` by the number of classes to reproduce an "
                    "Avalanche run (``benchmarks/README.md`` measured lr 0.02 against Replay's "
                    "0.05 on images).",
                    "Herding is the paper's Algorithm 4 exactly (always ``m`` distinct exemplars; "
                    "Avalanche stops after 1000 steps and can pick fewer); "
                    "``m = memory_size // n_classes`` (Avalanche rounds up and can exceed the "
                    "memory).",
                    "No horizontally flipped copies in the class means (skcl's models are not "
                    "assumed to take images); the previous model is evaluated in eval mode "
                    "(Avalanche leaves it in train mode); no need for NC-benchmark fields."],
        names=["ICaRL", "ICaRL (200)"]),
    "EWC": dict(
        family="regularization",
        what="Adds a quadratic penalty that anchors the weights important to earlier "
             "experiences, weighted by a diagonal Fisher information. One penalty term per "
             "experience (``mode=\"separate\"``) or one running term (``\"online\"``).",
        paper="J. Kirkpatrick et al., \"Overcoming catastrophic forgetting in neural networks\", "
              "*PNAS* 114(13), 3521-3526 (2017).",
        scenarios=[DOMAIN, TASK],
        suits="Domain-incremental (permuted) and task-incremental streams. On "
              "class-incremental streams it stays at Naive's level (measured below; van de Ven "
              "& Tolias 2019).",
        departures=["The Fisher is the paper's empirical Fisher: the mean of squared "
                    "**per-sample** gradients (``fisher=\"per_sample\"``), where Avalanche "
                    "averages squared minibatch-mean gradients; the penalty has the paper's "
                    "factor 1/2.",
                    "Scale of ``ewc_lambda``: at equal ``ewc_lambda`` skcl's penalty is about "
                    "10-20x Avalanche's on MLPs with minibatches of 32 (and the ratio grows with "
                    "Avalanche's minibatch size). To reproduce an Avalanche run, use "
                    "``fisher=\"minibatch\"`` and ``ewc_lambda = 2 * avalanche_ewc_lambda``.",
                    "A grown head is compared on its overlapping slice only: new units and "
                    "new task heads carry no penalty."],
        names=["EWC"]),
    "SynapticIntelligence": dict(
        family="regularization",
        what="Accumulates, online during training, each weight's contribution to the decrease "
             "of the loss, and penalises changes to the weights that contributed most. Like "
             "EWC but the importance is computed along the training trajectory.",
        paper="F. Zenke, B. Poole & S. Ganguli, \"Continual Learning Through Synaptic "
              "Intelligence\", ICML 2017.",
        scenarios=[DOMAIN, TASK],
        suits="Domain- and task-incremental streams; no effect on class-incremental ones.",
        departures=["The importance integrates the **task-loss** gradient only (the plugin "
                    "subtracts its own penalty's gradient); Avalanche integrates the total "
                    "gradient.",
                    "No 0.001 cap on the importance and no hard-coded 1/2 (both Avalanche "
                    "quirks); a negative contribution is clipped to 0 so the penalty stays "
                    "convex (not in the paper).",
                    "Defaults: ``eps=0.1`` instead of Avalanche's ``1e-7``, which only works "
                    "with the cap: without it barely-moved weights get huge importances and SGD "
                    "becomes unstable (measured on permuted digits). ``si_lambda`` does not "
                    "transfer from Avalanche (whose SI was measured inert on CPU): tune it "
                    "anew."],
        names=["SynapticIntelligence", "SI"]),
    "LwF": dict(
        family="regularization",
        what="Distils the previous model's outputs on the current data into the new model "
             "(knowledge distillation with temperature). Needs no memory.",
        paper="Z. Li & D. Hoiem, \"Learning without Forgetting\", ECCV 2016 (and *IEEE TPAMI* "
              "40(12), 2018).",
        scenarios=[TASK, DOMAIN],
        suits="Task-incremental streams (multi-head); domain-incremental with a small gain; "
              "not class-incremental.",
        departures=["The teacher runs in eval mode (dropout, batch-norm statistics frozen) and "
                    "the KL term is scaled by ``T**2`` (Hinton et al., 2015), keeping the "
                    "gradient scale independent of the temperature; Avalanche does neither."],
        names=["LwF"]),
    "LFL": dict(
        family="regularization",
        what="Keeps the features of the current data close to those of a frozen copy of the "
             "previous model, and freezes the softmax layer. A feature-level distillation.",
        paper="H. Jung, J. Ju, M. Jung & J. Kim, \"Less-forgetting Learning in Deep Neural "
              "Networks\", arXiv:1607.00122 (2016).",
        scenarios=[DOMAIN, TASK],
        suits="Domain-incremental streams with one shared head.",
        departures=["The model being trained stays in train mode for its feature pass "
                    "(Avalanche switches it to eval mode and never back); a head that grows for "
                    "new classes is trainable again."],
        names=["LFL"]),
    "GEM": dict(
        family="projection",
        what="Stores samples of each experience and, at every step, projects the gradient so "
             "that the loss on no past memory increases. The projection solves a quadratic "
             "program.",
        paper="D. Lopez-Paz & M. Ranzato, \"Gradient Episodic Memory for Continual "
              "Learning\", NeurIPS 2017.",
        scenarios=[DOMAIN, CLASS, TASK],
        suits="Domain-incremental and class-incremental streams with a memory when compute "
              "allows (the most accurate strategy on permuted digits here, 7-10x Naive's time).",
        departures=["Solver: the dual is a small non-negative least-squares problem on the "
                    "``K x K`` Gram matrix of the past gradients, solved exactly with "
                    "``scipy.optimize.nnls``; no ``1e-3`` ridge (which loosens the constraints "
                    "in the authors' ``quadprog`` call) and no dependency on "
                    "``qpsolvers``/``quadprog``."],
        names=["GEM"]),
    "AGEM": dict(
        family="projection",
        what="Averaged GEM: one reference gradient from a random sample of the memory; when "
             "the update conflicts with it, the update is projected onto its half-space. "
             "Much cheaper than GEM.",
        paper="A. Chaudhry, M. Ranzato, M. Rohrbach & M. Elhoseiny, \"Efficient Lifelong "
              "Learning with A-GEM\", ICLR 2019.",
        scenarios=[DOMAIN, TASK],
        suits="Domain- and task-incremental streams on a compute budget.",
        departures=["The reference samples are drawn uniformly from the whole memory, as in the "
                    "paper (Avalanche draws an equal share from each experience's memory)."],
        names=["AGEM"]),
    "CoPE": dict(
        family="online",
        what="Learns an embedding with prototypes that evolve online, with a "
             "pseudo-prototypical proxy loss and a class-balanced replay memory; predicts the "
             "nearest prototype. Built for online, data-incremental streams.",
        paper="M. De Lange & T. Tuytelaars, \"Continual Prototype Evolution: Learning Online "
              "from Non-Stationary Data Streams\", ICCV 2021.",
        scenarios=[ONLINE, CLASS],
        suits="Online streams of small experiences (``skcl.benchmarks.online_stream``).",
        departures=["Prototypes are updated after every training iteration (the paper's "
                    "algorithm); Avalanche accumulates over the experience, which is the same "
                    "with ``max_it_cnt=1``.",
                    "Offline over several epochs with a large learning rate it collapses "
                    "(measured: 0.10 on split digits at SGD 0.05 + momentum 0.9); the default "
                    "run uses lr 0.01. Negative forgetting is expected: prototypes of old "
                    "classes keep improving."],
        names=["CoPE"]),
    "CWRStar": dict(
        family="architectural",
        what="Trains the output weights of the current classes from zero and consolidates them "
             "into running averages; from the second experience on the rest of the model is "
             "frozen.",
        paper="V. Lomonaco, D. Maltoni & L. Pellegrini, \"Rehearsal-Free Continual Learning "
              "over Small Non-I.I.D. Batches\", CVPR Workshops 2020 (CWR*); CWR: V. Lomonaco "
              "& D. Maltoni, \"CORe50: a New Dataset and Benchmark for Continuous Object "
              "Recognition\", CoRL 2017.",
        scenarios=[CLASS],
        suits="Class-incremental streams on top of good (pretrained) features.",
        departures=["A bias of the output layer is reset and consolidated like one more weight "
                    "(Avalanche never resets or consolidates it).",
                    "Trained from scratch here (no pretrained features), so it helps less than "
                    "in the paper (tables below)."],
        names=["CWRStar"]),
    "AR1": dict(
        family="architectural",
        what="AR1* with latent replay: the lower layers train on the first experience, the "
             "upper ones keep training on current samples mixed with replayed latent "
             "activations, and the output layer is consolidated by CWR*.",
        paper="L. Pellegrini, G. Graffieti, V. Lomonaco & D. Maltoni, \"Latent Replay for "
              "Real-Time Continual Learning\", IROS 2020; AR1: D. Maltoni & V. Lomonaco, "
              "\"Continuous learning in single-incremental-task scenarios\", *Neural Networks* "
              "116, 56-73 (2019).",
        scenarios=[CLASS],
        suits="Class-incremental image streams, ideally on a pretrained network.",
        departures=["Without the reference's optional SI term (its ``ewc_lambda``, 0 by default "
                    "there).",
                    "Nothing is downloaded: the ImageNet-pretrained MobileNetV1 is replaced by "
                    ":class:`~skcl.models.AR1Net` (a small batch-renorm CNN) or any module "
                    "you pass; ``lr``/``inc_lr`` defaults assume a pretrained network (the "
                    "default run raises them).",
                    "Latent activations are computed by an eval-mode pass after the experience, "
                    "each with its own label (Avalanche reads labels by loader position, which "
                    "a shuffled loader mismatches); batch-renorm statistics are buffers (saved "
                    "in ``state_dict``)."],
        names=["AR1"]),
    "StreamingLDA": dict(
        family="streaming",
        what="Keeps running class means and a shared covariance over frozen features, updated "
             "one sample at a time without backpropagation, and predicts with linear "
             "discriminant analysis.",
        paper="T. L. Hayes & C. Kanan, \"Lifelong Machine Learning with Deep Streaming Linear "
              "Discriminant Analysis\", CVPR Workshops 2020.",
        scenarios=[CLASS, ONLINE, DOMAIN],
        suits="Class-incremental and online streams on good features; the fastest strategy.",
        departures=["Exact per-sample updates vectorised over a minibatch: the result does not "
                    "depend on ``batch_size`` (Avalanche's minibatch covariance update does).",
                    "The covariance starts at zero, not all-ones; classes never seen score "
                    "minus infinity (0 in Avalanche, where they can outrank seen classes).",
                    "The default extractor is the identity (no pretrained ResNet is "
                    "downloaded)."],
        names=["StreamingLDA"]),
    "PNNStrategy": dict(
        family="architectural",
        what="Progressive neural networks: a new column per task label with lateral adapters "
             "from all earlier columns, which are frozen, so earlier tasks are never "
             "forgotten.",
        paper="A. A. Rusu et al., \"Progressive Neural Networks\", arXiv:1606.04671 (2016).",
        scenarios=[TASK],
        suits="Task-incremental streams only (task labels at train and predict time).",
        departures=["The first layer takes only the raw input, as in the paper (Avalanche puts "
                    "an \"mlp\" adapter over the repeated raw input there), and ``adapter`` "
                    "applies to every layer (Avalanche ignores it in the first)."],
        names=["PNNStrategy", "PNN"]),
    "DER": dict(
        family="rehearsal",
        what="Dark experience replay: a reservoir memory of inputs and the logits they had, "
             "and a penalty keeping the current logits of replayed samples close to the "
             "stored ones. Task-free; works offline and online.",
        paper="P. Buzzega, M. Boschini, A. Porrello, D. Abati & S. Calderara, \"Dark Experience "
              "for General Continual Learning: a Strong, Simple Baseline\", NeurIPS 2020.",
        scenarios=[CLASS, ONLINE, DOMAIN],
        suits="Class-incremental and online streams with a memory.",
        departures=["With a growing head, stored logits are extended with the model's outputs "
                    "for new units when they appear (the paper assumes a fixed head: give "
                    "``classes=`` at the first call).",
                    "The memory is updated every ``mem_update_every`` steps (default 8; 1 is "
                    "the paper's every step)."],
        names=["DER"]),
    "DERPlusPlus": dict(
        family="rehearsal",
        what="DER plus a cross-entropy on a second replayed minibatch with its stored labels.",
        paper="P. Buzzega, M. Boschini, A. Porrello, D. Abati & S. Calderara, \"Dark Experience "
              "for General Continual Learning: a Strong, Simple Baseline\", NeurIPS 2020.",
        scenarios=[CLASS, ONLINE, DOMAIN],
        suits="Class-incremental and online streams with a memory.",
        departures=["As DER. One forward/backward pass covers incoming and both replayed "
                    "minibatches (as in Avalanche; Mammoth runs three passes, which differs "
                    "only for batch-norm statistics)."],
        names=["DERPlusPlus", "DER++"]),
    "ERACE": dict(
        family="rehearsal",
        what="Replay with an asymmetric cross-entropy: the incoming minibatch's loss is "
             "restricted to the classes present in it, the replayed minibatch is trained over "
             "all classes.",
        paper="L. Caccia, R. Aljundi, N. Asadi, T. Tuytelaars, J. Pineau & E. Belilovsky, "
              "\"New Insights on Reducing Abrupt Representation Change in Online Continual "
              "Learning\", ICLR 2022.",
        scenarios=[ONLINE, CLASS],
        suits="Online class-incremental streams.",
        departures=["The memory is updated every ``mem_update_every`` steps (default 8)."],
        names=["ERACE", "ER-ACE"]),
    "MIR": dict(
        family="rehearsal",
        what="Replays the memory candidates whose loss a virtual SGD step on the incoming "
             "minibatch would increase most. The virtual step leaves parameters and optimizer "
             "untouched.",
        paper="R. Aljundi, L. Caccia, E. Belilovsky, M. Caccia, M. Lin, L. Charlin & "
              "T. Tuytelaars, \"Online Continual Learning with Maximally Interfered "
              "Retrieval\", NeurIPS 2019.",
        scenarios=[ONLINE, CLASS],
        suits="Online class-incremental streams.",
        departures=["The memory is updated every ``mem_update_every`` steps (default 8)."],
        names=["MIR"]),
    "SCR": dict(
        family="rehearsal",
        what="Trains a projection head with the supervised contrastive loss on current and "
             "replayed samples in two views, and predicts with the nearest class mean of the "
             "features.",
        paper="Z. Mai, R. Li, H. Kim & S. Sanner, \"Supervised Contrastive Replay: Revisiting "
              "the Nearest Class Mean Classifier in Online Class-Incremental Continual "
              "Learning\", CVPR Workshops 2021.",
        scenarios=[ONLINE, CLASS],
        suits="Online class-incremental streams.",
        departures=["The very first minibatch (empty memory) trains on its two views alone; "
                    "the end-of-task \"review trick\" is not done.",
                    "For flat inputs the second view is feature noise "
                    "(:class:`~skcl.plugins.FeatureNoise`); pass image augmentation for "
                    "images."],
        names=["SCR"]),
    "BiC": dict(
        family="rehearsal",
        what="Trains on the experience plus a class-balanced memory with cross-entropy and "
             "distillation, then fits a two-parameter bias correction of the new classes' "
             "logits on a held-out part of the memory.",
        paper="Y. Wu, Y. Chen, L. Wang, Y. Ye, Z. Liu, Y. Guo & Y. Fu, \"Large Scale "
              "Incremental Learning\", CVPR 2019.",
        scenarios=[CLASS],
        suits="Class-incremental streams with many classes and a memory.",
        departures=["``lamb=None`` uses the paper's ``n_old / (n_old + n_new)`` (Mammoth uses "
                    "``1 / (t + 1)``)."],
        names=["BiC"]),
}
