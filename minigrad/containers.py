"""Modules that hold modules: ``Sequential``, ``ModuleList`` and ``ModuleDict``, as in
PyTorch. Their children are registered under "0", "1", ... (or their keys), so parameter
names read ``layers.0.weight``."""
import collections

from .nn import Module


class Sequential(Module):
    """Calls its modules in order, each on the previous one's output."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], collections.OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def add_module(self, name, module):
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: {name!r} is a {type(module).__name__}, "
                            f"not a Module")
        setattr(self, name, module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return type(self)(*modules[index])
        return modules[index]

    def append(self, module):
        """Add ``module`` at the end, named by its position."""
        self.add_module(str(len(self)), module)
        return self

    def forward(self, x):
        for module in self:
            x = module(x)
        return x


class ModuleList(Sequential):
    """A list of modules, registered so that their parameters are found; not callable."""

    def __init__(self, modules=()):
        super().__init__(*modules)

    def __getitem__(self, index):
        modules = list(self._modules.values())
        return type(self)(modules[index]) if isinstance(index, slice) else modules[index]

    def insert(self, index, module):
        """Put ``module`` before position ``index``; the later ones are renamed one up."""
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.insert: got a {type(module).__name__}, not a Module")
        modules = list(self)
        modules.insert(index, module)
        for position, each in enumerate(modules):
            self.add_module(str(position), each)

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList is not callable: iterate over it")


class ModuleDict(Module):
    """A dict of modules, registered under their keys; not callable."""

    def __init__(self, modules=None):
        super().__init__()
        for name, module in dict(modules or {}).items():
            self[name] = module

    def __setitem__(self, name, module):
        Sequential.add_module(self, name, module)

    def __getitem__(self, name):
        return self._modules[name]

    def __contains__(self, name):
        return name in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()
