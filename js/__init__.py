"""The widget's front end (widget.js, widget.css), package data of `chat_widget.js`."""
