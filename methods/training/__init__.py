"""Trainers of the zoo components (``bench train NAME``), apart from the networks they train.

One module per component - ``deepsc``, ``attribute_predictor``, ``identity_embedder``,
``instruction_encoder``, ``stylegan2`` (+ ``stylegan2_report``, the generator's quality report) -
each with ``train(ctx)`` (ctx: ``methods.zoo.TrainContext``); ``face_nets`` holds what the two
face trainers share (augmentation, lr schedule, resumable state, progress logging). The networks
live in ``methods.nets`` and never import this package; ``methods.zoo.components`` registers each
component with a trainer that imports its module on call.
"""
