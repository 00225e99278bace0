"""The skorch seams of the training loop (every use of a skorch private lives here)."""

from __future__ import annotations

import contextlib
import warnings

import torch
from skorch.callbacks import Callback, Checkpoint, PrintLog
from skorch.dataset import unpack_data
from skorch.history import History
from skorch.utils import TeeGenerator
from torch.utils.data import DataLoader

from skcl.exceptions import DivergenceError
from skcl.plugins._base import ClosedFormPenalty
from skcl.transforms import apply_transform
from skcl.utils import (
    BatchIterator,
    TrainData,
)

__all__ = ["SkorchLoop"]


class _PrintLog(PrintLog):
    """skorch's PrintLog, which skips building its table when ``verbose=0``."""

    def on_epoch_end(self, net, **kwargs):
        if net.verbose:
            super().on_epoch_end(net, **kwargs)


class _History(History):
    """skorch's History with a fast path for integer indices.

    skorch records every batch through ``history[-1]``, which its general
    index parser handles in ~5 us; plain integer indices go straight to the list.
    """

    def __getitem__(self, i):
        if type(i) is int:
            return list.__getitem__(self, i)
        return super().__getitem__(i)


class _StopExperience(Exception):  # noqa: N818 - a signal, not an error
    """Ends the current experience at an epoch end after ``stop_training()``."""


class SkorchLoop:
    """Part of :class:`~skcl.strategies.BaseStrategy`.

    The skorch seams of the training loop; every use of a
    skorch private lives here."""

    #: Closed-form penalties (:class:`~skcl.plugins.ClosedFormPenalty`) of the current
    #: loss, their gradients added after its backward pass.
    _pending_penalty_grads: list | None = None
    #: Differentiate closed-form penalties with the loss instead (data-parallel training:
    #: the backward pass is where gradients are averaged over processes).
    _differentiate_closed_form_penalties: bool = False
    #: Set while ``evaluation_step`` runs on an already transformed batch (see
    #: ``_evaluate_transformed``): ``_transform_batch`` then leaves evaluation batches as is.
    _eval_inputs_transformed: bool = False

    @property
    def _default_callbacks(self):
        # Without a validation split there is no valid_loss or valid_acc to score (skorch
        # would still call them every batch and epoch); PrintLog stays quiet at verbose=0.
        return [(name, _PrintLog() if name == "print_log" else cb)
                for name, cb in super()._default_callbacks
                if not (name in ("valid_loss", "valid_acc") and self.train_split is None)]

    def initialize_history(self):
        self.history_ = _History()
        return self

    def notify(self, method_name, **cb_kwargs):
        # skorch calls every callback for every event, twice per batch; most callbacks
        # only listen to epoch events, so call just the ones that override the event.
        getattr(self, method_name)(self, **cb_kwargs)
        for cb in self._listeners(method_name):
            getattr(cb, method_name)(self, **cb_kwargs)

    def _listeners(self, method_name: str) -> list:
        callbacks = self.callbacks_
        index = vars(self).get("callback_index_")
        if index is None or index[0] is not callbacks or index[1] != len(callbacks):
            index = (callbacks, len(callbacks), {})
            self.callback_index_ = index
        table = index[2]
        if method_name not in table:
            base = getattr(Callback, method_name, None)
            table[method_name] = [
                cb for _, cb in callbacks
                if base is None or getattr(type(cb), method_name, None) is not base
            ]
        return table[method_name]

    def check_data(self, X, y=None):
        # Classes are tracked by partial_fit (skorch's version would reset them).
        pass

    def get_iterator(self, dataset, training=False):
        if isinstance(dataset, TrainData):
            iterator = self.iterator_train if training else self.iterator_valid
            if iterator is DataLoader:
                kwargs = self.get_params_for("iterator_train" if training else "iterator_valid")
                batch_size = kwargs.get("batch_size", self.batch_size)
                if training and getattr(self, "train_batch_size_", None) is not None:
                    batch_size = self.train_batch_size_  # set by a plugin for this experience
                return BatchIterator(
                    dataset,
                    batch_size,
                    shuffle=bool(kwargs.get("shuffle", False)) and training,
                    generator=self.shuffle_generator_,
                    drop_last=bool(kwargs.get("drop_last", False)),
                    should_stop=self._should_stop if training else None,
                    device=self.device,
                )
        return super().get_iterator(dataset, training=training)

    def _set_training(self, training=True):
        # skorch calls this on every batch; walking the module tree each time costs ~10%
        # on small models. Only flip when the top-level mode differs, which also keeps
        # sub-modules a plugin froze in eval mode (CWR*, AR1) as the plugin left them.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                module.train(training)

    def _should_stop(self) -> bool:
        return self.stop_requested_

    def stop_training(self) -> None:
        """Ask the loop to end the current experience after this minibatch."""
        self.stop_requested_ = True

    def infer(self, x, **fit_params):
        if isinstance(x, dict) and "task_labels" in x and "x" in x:
            inputs = x["x"].to(self.device)
            if getattr(self.module_, "is_multi_task", False):
                return self.module_(inputs, x["task_labels"].to(self.device), **fit_params)
            return self.module_(inputs, **fit_params)
        return super().infer(x, **fit_params)

    def train_step(self, batch, **fit_params):
        """One optimizer step, with the plugin hooks around it.

        skorch's own ``train_step`` with one change: the ``on_grad_computed``
        event (and the parameter generator it carries) is only built when a
        plugin or callback listens to it. The closure is kept, so optimizers
        that re-evaluate the loss (LBFGS) work; batch adaptation happens once,
        outside it.
        """
        hooks = self.plugin_hooks_  # loops over plugins inlined: this runs every minibatch
        batch = self._prepare_train_batch(batch)
        for plugin in hooks["before_training_iteration"]:
            plugin.before_training_iteration(self, batch)
        accumulator = self.get_train_step_accumulator()
        grad_listeners = bool(hooks["after_backward"] or self._listeners("on_grad_computed"))
        if self.precision != "32":
            return self._mixed_precision_step(batch, accumulator, grad_listeners, **fit_params)

        def step_fn():
            self._zero_grad_optimizer()
            step = self.train_step_single(batch, **fit_params)
            accumulator.store_step(step)
            if grad_listeners:
                self.notify("on_grad_computed",
                            named_parameters=TeeGenerator(self.get_all_learnable_params()),
                            batch=batch, training=True)
            return step["loss"]

        self._step_optimizer(step_fn)
        for plugin in hooks["after_training_iteration"]:
            plugin.after_training_iteration(self, batch)
        return accumulator.get_step()

    def _prepare_train_batch(self, batch):
        """A training minibatch as the model sees it: plugins' ``adapt_batch`` (replay),
        then ``train_transform`` (so replayed samples are augmented too)."""
        for plugin in self.plugin_hooks_["adapt_batch"]:
            batch = plugin.adapt_batch(self, batch)
        if self.train_transform is not None:
            batch = self._transform_batch(batch, training=True)
        return batch

    def train_step_single(self, batch, **fit_params):
        # skorch's, minus the generic unpacking: our iterators yield (inputs, y) pairs.
        self._set_training(True)
        Xi, yi = batch if type(batch) is tuple else unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        for plugin in self.plugin_hooks_["after_forward"]:
            plugin.after_forward(self, y_pred, yi, Xi)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        scaler = self.grad_scaler_
        if scaler is None:
            self._backward(loss)
        else:
            scaler.scale(loss).backward()
            for optimizer in self._optimizers_list():
                # plugins (GEM, A-GEM, EWC, ...) see true gradients, not scaled ones
                scaler.unscale_(optimizer)
        terms, self._pending_penalty_grads = self._pending_penalty_grads, None
        for term in terms or ():
            term.add_to_grads()
        return {"loss": loss, "y_pred": y_pred}

    def _backward(self, loss: torch.Tensor) -> None:
        # the one place the training loss is differentiated (an accelerator replaces it)
        loss.backward()

    # -- transforms, devices and precision ----------------------------------------------------
    def transform_inputs(self, x: torch.Tensor, training: bool = False) -> torch.Tensor:
        """``train_transform`` (training) or ``eval_transform`` applied to a batch of inputs.

        The batch is moved to the strategy's device first; training draws its
        randomness from a generator seeded from ``random_state``. Plugins that
        run the model on raw experience data (herding, Fisher) call this so
        the model sees what it sees in training.
        """
        transform = self.train_transform if training else self.eval_transform
        if transform is None:
            return x
        x = x.to(self.device, non_blocking=True)
        return apply_transform(transform, x, self.transform_generator_ if training else None)

    def _transform_batch(self, batch, training: bool):
        if not training and self._eval_inputs_transformed:
            return batch
        inputs, y = batch
        if isinstance(inputs, dict) and "x" in inputs:
            inputs = {**inputs, "x": self.transform_inputs(inputs["x"], training)}
        else:
            inputs = self.transform_inputs(inputs, training)
        return inputs, y

    def _autocast(self):
        if self.precision == "32":
            return contextlib.nullcontext()
        device_type = torch.device(self.device).type
        dtype = torch.bfloat16 if self.precision == "bf16-mixed" else torch.float16
        return torch.autocast(device_type=device_type, dtype=dtype)

    def _optimizers_list(self) -> list:
        return [getattr(self, name + "_") for name in self._optimizers]

    def _mixed_precision_step(self, batch, accumulator, grad_listeners, **fit_params):
        # No optimizer closure: a gradient scaler steps each optimizer itself.
        self._zero_grad_optimizer()
        with self._autocast():
            step = self.train_step_single(batch, **fit_params)
        accumulator.store_step(step)
        if grad_listeners:
            self.notify("on_grad_computed",
                        named_parameters=TeeGenerator(self.get_all_learnable_params()),
                        batch=batch, training=True)
        scaler = self.grad_scaler_
        for optimizer in self._optimizers_list():
            if scaler is None:
                optimizer.step()
            else:
                scaler.step(optimizer)
        if scaler is not None:
            scaler.update()
        for plugin in self.plugin_hooks_["after_training_iteration"]:
            plugin.after_training_iteration(self, batch)
        return accumulator.get_step()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = None
        if training:
            for plugin in self.plugin_hooks_["compute_loss"]:
                loss = plugin.compute_loss(self, y_pred, y_true, X)
                if loss is not None:
                    break
        if loss is None:
            if type(y_true) is torch.Tensor and not isinstance(self.criterion_, torch.nn.NLLLoss):
                # skorch's path (to_tensor + the NLLLoss log) reduced to what applies here
                loss = self.criterion_(y_pred, y_true.to(y_pred.device))
            else:
                loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training:
            self._pending_penalty_grads = None  # those of this loss only
            for plugin in self.plugin_hooks_["penalty"]:
                term = plugin.penalty(self, y_pred, y_true, X)
                if term is None:
                    continue
                if isinstance(term, ClosedFormPenalty):
                    if not self._differentiate_closed_form_penalties:
                        # the value now, the gradient added after the backward pass
                        loss = loss + term.value
                        self._pending_penalty_grads = [
                            *(self._pending_penalty_grads or ()), term]
                        continue
                    term = term.as_autograd()
                loss = loss + term
        return loss

    def on_grad_computed(self, net, named_parameters, X=None, y=None, training=False, **kwargs):
        self._call("after_backward")

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train=dataset_train, dataset_valid=dataset_valid,
                               **kwargs)
        self.history.record("experience", self.n_experiences_)
        previous = self.history_[-2] if len(self.history_) > 1 else {}
        same = previous.get("experience") == self.n_experiences_
        self.history.record("epoch_in_experience",
                            previous.get("epoch_in_experience", -1) + 1 if same else 0)
        self._call("before_training_epoch")

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train=dataset_train, dataset_valid=dataset_valid,
                             **kwargs)
        self._call("after_training_epoch")
        if self.stop_requested_:
            raise _StopExperience

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if not training or self.loss_sync == "batch":
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        # loss_sync="epoch": the running loss stays on the device; one read per epoch.
        total, n_samples, batch_count = None, 0, 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            size = len(batch[0]["x"] if isinstance(batch[0], dict) else batch[0])
            term = step["loss"].detach() * size
            total = term if total is None else total + term
            n_samples += size
            self.history.record_batch(prefix + "_batch_size", size)
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
        self.history.record(prefix + "_batch_count", batch_count)
        if total is not None:
            loss = float(total) / n_samples
            self.history.record(prefix + "_loss", loss)
            self._check_divergence(loss, f"epoch {self.history_[-1]['epoch_in_experience']} "
                                         "(end of epoch: loss_sync='epoch')")

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        # The loss skorch just recorded (already a Python float: no extra device sync).
        if not training or self.on_divergence == "ignore" or self.loss_sync != "batch":
            return
        epoch = self.history_[-1]
        self._check_divergence(epoch["batches"][-1]["train_loss"],
                               f"epoch {epoch['epoch_in_experience']}, "
                               f"minibatch {len(epoch['batches'])}")

    def _check_divergence(self, loss: float, where: str) -> None:
        if self.on_divergence != "ignore" and loss - loss != 0:  # NaN or +-inf
            message = (
                f"{type(self).__name__}: the training loss became {loss} in experience "
                f"{self.n_experiences_} (0-based), {where}: the training diverged. Lower the "
                f"learning rate (lr={self.lr!r}) or scale the inputs (e.g. StandardScaler in "
                "a Pipeline); on_divergence='warn' or 'ignore' keeps training instead."
            )
            if self.on_divergence == "raise":
                raise DivergenceError(message)
            if not self.divergence_warned_:
                warnings.warn(message, RuntimeWarning, stacklevel=2)
                self.divergence_warned_ = True

    def _save_experience_checkpoints(self) -> None:
        """Let skorch ``Checkpoint`` callbacks save once more when the experience is complete.

        skorch checkpoints at epoch ends, inside the experience (before the plugins'
        ``after_training_exp`` fills buffers and importances); this last save holds the
        finished experience, so ``load_params(checkpoint=cp)`` continues exactly.
        """
        for _, callback in self.callbacks_:
            if isinstance(callback, Checkpoint):
                callback.on_epoch_end(self)

    def _train_experience(self, data, **fit_params) -> None:
        """skorch's ``partial_fit`` body, where only a deliberate stop ends training early.

        skorch swallows ``KeyboardInterrupt`` there (its way to end ``partial_fit``
        early); here a user's Ctrl-C propagates (and the verb rolls back), while
        :meth:`stop_training` ends the experience with a private exception.
        """
        self.divergence_warned_ = False
        self.notify("on_train_begin", X=data, y=None)
        try:
            self.fit_loop(data, None, _routing_method="partial_fit", **fit_params)
        except _StopExperience:
            pass
        self.notify("on_train_end", X=data, y=None)

    def _evaluate_transformed(self, batch):
        """``evaluation_step`` on a batch whose inputs already went through ``eval_transform``."""
        # a flag read by _transform_batch, not a skip in evaluation_step: strategies that
        # override evaluation_step (StreamingLDA) transform through _transform_batch too
        self._eval_inputs_transformed = True
        try:
            return self.evaluation_step(batch, training=False)
        finally:
            del self._eval_inputs_transformed  # back to the class default, no trace on the net

    def evaluation_step(self, batch, training=False):
        if self.eval_transform is not None:
            batch = self._transform_batch(batch, training=False)
        Xi, _ = unpack_data(batch)
        with torch.set_grad_enabled(training), self._autocast():
            self._set_training(training)
            out = self.infer(Xi)
        if self.precision != "32" and isinstance(out, torch.Tensor):
            out = out.float()
        return out
