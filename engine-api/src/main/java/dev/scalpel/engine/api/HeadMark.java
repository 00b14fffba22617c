package dev.scalpel.engine.api;

/** What the user marked a head for; a click cycles none → train → freeze → none. */
public enum HeadMark {
    NONE, TRAIN, FREEZE;

    public HeadMark next() {
        return values()[(ordinal() + 1) % values().length];
    }
}
