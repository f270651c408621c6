"""A finished row's numbers: the SNN's from its log folder, one summary line for the console."""

from __future__ import absolute_import, division, print_function

from snn_conversion.core.errors import UserError
from snn_conversion.core.formats import RUN_JSON, read_columns, read_run_json
from snn_conversion.core.records import SnnResult
from snn_conversion.snn.runs import first_matching_step

__all__ = ['summarize_logs', 'summary_line']


def summarize_logs(log_dir, ann_correct, digest, seconds):
    """The SNN's numbers (a record's :class:`~snn_conversion.core.records.SnnResult`) from a finished log folder
    (run.json + accuracy/spike/sop logs)."""
    info = read_run_json(log_dir)
    if info is None:
        raise UserError('%s has no %s: the simulation did not finish' % (log_dir, RUN_JSON))
    T, n = int(info['time_steps']), int(info['num_images'])
    columns = read_columns(log_dir, ('accuracy.txt', 'spike_num.txt', 'sop_num.txt'), T)

    def column(name):
        return [columns[name][:, t].tolist() for t in range(T)]  # per step, the batches' values

    correct = [int(round(sum(v))) for v in column('accuracy.txt')]
    # cumulative spikes and SOPs per image at every step (the figures' curves); the last is the run's total
    spikes_per_step = [round(sum(v) / float(n), 1) for v in column('spike_num.txt')]
    sops_per_step = [round(sum(v) / float(n), 1) for v in column('sop_num.txt')]
    spikes, sops = sum(column('spike_num.txt')[-1]) / float(n), sum(column('sop_num.txt')[-1]) / float(n)
    reached = [t + 1 for t, c in enumerate(correct) if c == ann_correct]
    first = reached[0] if reached else None
    stable = first_matching_step(correct, ann_correct)
    out = SnnResult()
    if info.get('layer_spikes') is not None:  # |spikes| per image of each hidden block over the whole simulation
        out = out.replace(spikes_per_layer=[round(v / float(n), 1) for v in info['layer_spikes']])
    return out.replace(accuracy=[round(100.0 * c / n, 4) for c in correct], correct=correct, n=n, time_steps=T,
                       final=round(100.0 * correct[-1] / n, 4), first_step=first, stable_step=stable,
                       steps_run=info.get('steps_run'), spikes_per_image=round(spikes, 1),
                       sops_per_image=round(sops, 1), spikes_per_step=spikes_per_step, sops_per_step=sops_per_step,
                       seconds=round(seconds, 1), log_dir=log_dir, checkpoint_sha256=digest)


def summary_line(rec):
    """A record's results in one line (its status when it has none)."""
    parts = []
    if rec.ann:
        parts.append('ANN %.2f%%' % rec.ann.accuracy)
    if rec.snn:
        s = rec.snn
        parts.append('SNN %.2f%% (= ANN at step %s, stays from %s)' % (s.final, s.first_step, s.stable_step))
    return ', '.join(parts) or rec.status or ''
