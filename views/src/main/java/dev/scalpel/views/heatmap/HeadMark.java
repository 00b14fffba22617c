package dev.scalpel.views.heatmap;

/** What the user marked a head for; a click cycles none → train → freeze → none. */
public enum HeadMark {
    NONE, TRAIN, FREEZE;

    public HeadMark next() {
        return values()[(ordinal() + 1) % values().length];
    }
}
