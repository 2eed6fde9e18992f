"""Word-level language modelling, written as PyTorch's ``examples/word_language_model``
(data.py, model.py and main.py in one file) with minigrad in place of torch: a multi-layer
LSTM (or GRU, RNN) over word embeddings, Dropout, tied input and output embeddings
(Press & Wolf 2017; Inan et al. 2017), NLLLoss on log_softmax, truncated BPTT with the
hidden state carried between batches, clip_grad_norm_, the learning rate divided by 4
whenever the validation loss stops improving, and the best model's state_dict saved.

    python examples/word_language_model.py --data ./data/wikitext-2 --epochs 6 --tied

``--data`` is a folder holding train.txt, valid.txt and test.txt (as PyTorch's example
expects), or one text file, split 80/10/10 by lines.
"""
import argparse
import math
import os
import time

import minigrad as torch
import models
from minigrad import functional as F
from minigrad import nn

# -- data.py -------------------------------------------------------------------------------


class Dictionary:
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class Corpus:
    def __init__(self, path):
        self.dictionary = Dictionary()
        if os.path.isdir(path):
            parts = [self._read(os.path.join(path, f"{name}.txt"))
                     for name in ("train", "valid", "test")]
        else:
            lines = self._read(path)
            cut1, cut2 = int(0.8 * len(lines)), int(0.9 * len(lines))
            parts = [lines[:cut1], lines[cut1:cut2], lines[cut2:]]
        self.train, self.valid, self.test = (self.tokenize(lines) for lines in parts)

    @staticmethod
    def _read(path):
        if not os.path.exists(path):
            raise FileNotFoundError(f"word_language_model: no such file {path} (--data is a "
                                    f"folder with train.txt, valid.txt, test.txt, or a text file)")
        with open(path, encoding="utf8") as f:
            return [line for line in f if line.split()]

    def tokenize(self, lines):
        """The words of ``lines``, each line ending in <eos>, as an int64 tensor of ids."""
        ids = []
        for line in lines:
            for word in line.split() + ["<eos>"]:
                ids.append(self.dictionary.add_word(word))
        return torch.tensor(ids, dtype=torch.int64)


# -- model.py ------------------------------------------------------------------------------


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(models, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            try:
                nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            except KeyError:
                raise ValueError("An invalid option for `--model` was supplied, options are "
                                 "['LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU']") from None
            self.rnn = models.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity,
                                  dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)

        # "Using the Output Embedding to Improve Language Models" (Press & Wolf 2016)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight

        self.init_weights()
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


# -- main.py -------------------------------------------------------------------------------


def positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="minigrad Wikitext-2 RNN/LSTM/GRU Language Model")
    parser.add_argument("--data", type=str, default="./data/wikitext-2",
                        help="location of the data corpus")
    parser.add_argument("--model", type=str, default="LSTM",
                        help="type of network (RNN_TANH, RNN_RELU, LSTM, GRU)")
    parser.add_argument("--emsize", type=positive_int, default=200, help="size of word embeddings")
    parser.add_argument("--nhid", type=positive_int, default=200, help="number of hidden units per layer")
    parser.add_argument("--nlayers", type=positive_int, default=2, help="number of layers")
    parser.add_argument("--lr", type=float, default=20, help="initial learning rate")
    parser.add_argument("--clip", type=float, default=0.25, help="gradient clipping")
    parser.add_argument("--epochs", type=positive_int, default=40, help="upper epoch limit")
    parser.add_argument("--batch_size", type=positive_int, default=20, metavar="N", help="batch size")
    parser.add_argument("--bptt", type=positive_int, default=35, help="sequence length")
    parser.add_argument("--dropout", type=float, default=0.2,
                        help="dropout applied to layers (0 = no dropout)")
    parser.add_argument("--tied", action="store_true",
                        help="tie the word embedding and softmax weights")
    parser.add_argument("--seed", type=int, default=1111, help="random seed")
    parser.add_argument("--log-interval", type=positive_int, default=200, metavar="N",
                        help="report interval")
    parser.add_argument("--save", type=str, default="model.npz",
                        help="path to save the final model")
    parser.add_argument("--dry-run", action="store_true", help="verify the code and the model")
    return parser.parse_args(argv)


def batchify(data, bsz):
    """Arrange the dataset into columns: (len // bsz, bsz); each column a contiguous run."""
    nbatch = data.size(0) // bsz
    data = data[:nbatch * bsz]
    return data.view(bsz, -1).t()


def get_batch(source, i, bptt):
    """Inputs source[i:i+L] and, flattened, the next words source[i+1:i+1+L]."""
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def evaluate(model, criterion, data_source, batch_size, bptt):
    model.eval()
    total_loss = 0.0
    hidden = model.init_hidden(batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def train(model, criterion, optimizer, train_data, args, epoch, log=print):
    """One epoch of truncated BPTT; returns the loss of every batch."""
    model.train()
    total_loss, losses = 0.0, []
    start_time = time.time()
    hidden = model.init_hidden(args.batch_size)
    for batch, i in enumerate(range(0, train_data.size(0) - 1, args.bptt)):
        data, targets = get_batch(train_data, i, args.bptt)
        # Starting each batch, we detach the hidden state from how it was previously
        # produced. If we didn't, the model would try backpropagating all the way to the
        # start of the dataset.
        optimizer.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        # clip_grad_norm_ helps prevent the exploding gradient problem in RNNs / LSTMs.
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        total_loss += loss.item()
        losses.append(loss.item())
        if batch % args.log_interval == 0 and batch > 0:
            cur_loss = total_loss / args.log_interval
            elapsed = time.time() - start_time
            log(f"| epoch {epoch:3d} | {batch:5d}/{len(train_data) // args.bptt:5d} batches | "
                f"lr {optimizer.param_groups[0]['lr']:02.2f} | ms/batch "
                f"{elapsed * 1000 / args.log_interval:5.2f} | loss {cur_loss:5.2f} | ppl "
                f"{math.exp(cur_loss):8.2f}")
            total_loss = 0
            start_time = time.time()
        if args.dry_run:
            break
    return losses


def main(argv=None, log=print):
    """Train, keep the best model by validation loss, reload it and report the test loss.
    Returns the history: per-batch training losses per epoch, validation losses, test loss."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    corpus = Corpus(args.data)
    eval_batch_size = 10
    train_data = batchify(corpus.train, args.batch_size)
    val_data = batchify(corpus.valid, eval_batch_size)
    test_data = batchify(corpus.test, eval_batch_size)

    for name, words, data, bsz in (("train", corpus.train, train_data, args.batch_size),
                                   ("valid", corpus.valid, val_data, eval_batch_size),
                                   ("test", corpus.test, test_data, eval_batch_size)):
        if data.size(0) < 2:    # no (input, next word) pair: a loss of 0 on nothing
            raise ValueError(f"word_language_model: the {name} split holds {len(words)} "
                             f"words, too few for {bsz} columns of at least 2 (a longer "
                             f"text, or a smaller --batch_size)")

    ntokens = len(corpus.dictionary)
    model = RNNModel(args.model, ntokens, args.emsize, args.nhid, args.nlayers, args.dropout,
                     args.tied)
    criterion = nn.NLLLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)

    history = {"train": [], "valid": []}
    best_val_loss = None
    for epoch in range(1, args.epochs + 1):
        epoch_start_time = time.time()
        history["train"].append(train(model, criterion, optimizer, train_data, args, epoch,
                                      log))
        val_loss = evaluate(model, criterion, val_data, eval_batch_size, args.bptt)
        history["valid"].append(val_loss)
        log("-" * 89)
        log(f"| end of epoch {epoch:3d} | time: {time.time() - epoch_start_time:5.2f}s | "
            f"valid loss {val_loss:5.2f} | valid ppl {math.exp(val_loss):8.2f}")
        log("-" * 89)
        # Save the model if the validation loss is the best we've seen so far.
        if best_val_loss is None or val_loss < best_val_loss:
            torch.save(model.state_dict(), args.save)
            best_val_loss = val_loss
        else:
            # Anneal the learning rate if no improvement has been seen in the validation set.
            for group in optimizer.param_groups:
                group["lr"] /= 4.0
        if args.dry_run:
            break

    # Load the best saved model.
    model.load_state_dict(torch.load(args.save))
    test_loss = evaluate(model, criterion, test_data, eval_batch_size, args.bptt)
    history["test"] = test_loss
    log("=" * 89)
    log(f"| End of training | test loss {test_loss:5.2f} | test ppl {math.exp(test_loss):8.2f}")
    log("=" * 89)
    return history


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError) as error:      # bad data or options: one line, no traceback
        raise SystemExit(f"error: {error}") from None
