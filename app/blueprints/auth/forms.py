"""Login, password and reset forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me logged in on this device (30 days)")


def _new_password(label: str = "New password"):
    return PasswordField(label, validators=[DataRequired(message="Enter a new password."), Length(max=200)])


def _confirm(of: str):
    return PasswordField("New password again", validators=[
        DataRequired(message="Type the new password again."), EqualTo(of, message="The two passwords differ.")])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[
        DataRequired(message="Enter your current password."), Length(max=200)])
    new_password = _new_password()
    confirm = _confirm("new_password")


class ResetPasswordForm(FlaskForm):
    # The token of an owner-issued link travels in the link's fragment (`/reset#t=…`, never sent to
    # a server) and reaches us only in this POSTed field: reset.js fills it, or the person pastes it.
    token = StringField("Code from your reset link", validators=[
        DataRequired(message="Paste the code from your reset link (everything after #t=)."), Length(max=100)])
    password = _new_password()
    confirm = _confirm("password")


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Your login email", validators=[DataRequired(message="Enter your email."), Length(max=254)])


class ResetCodeForm(FlaskForm):
    email = EmailField("Your login email", validators=[DataRequired(message="Enter your email."), Length(max=254)])
    code = StringField("Code from the text", validators=[DataRequired(message="Enter the code."), Length(max=12)])
    password = _new_password()
    confirm = _confirm("password")
